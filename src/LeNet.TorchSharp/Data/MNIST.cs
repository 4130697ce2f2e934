using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// MNIST (or any dataset in its format, such as Fashion-MNIST), loaded whole into tensors: torchvision's
/// <c>datasets.MNIST(root, train, download, transform)</c> for TorchSharp.
/// </summary>
/// <remarks>
/// The IDX files are read and validated once; pixels become floats in [0, 1] (torchvision's <c>ToTensor</c>),
/// the transform runs once over the whole set, and the result lives on <c>device</c>. Batches are then
/// cheap slices (see <see cref="TensorDataLoader"/>), not per-sample work.
/// </remarks>
public sealed class MNIST : IDisposable
{
    /// <summary>Where the files are looked for by default, relative to the working directory.</summary>
    public const string DefaultRoot = "data/mnist";

    /// <summary>Images after the transform: float32, N x 1 x H x W (28 x 28 untransformed).</summary>
    public Tensor Images { get; }

    /// <summary>Labels: int64, N, each in [0, classes).</summary>
    public Tensor Labels { get; }

    /// <summary>Number of samples.</summary>
    public long Count => Labels.shape[0];

    /// <summary>Files, class names and mirrors of the dataset.</summary>
    public MnistResources Resources { get; }

    /// <summary>Whether this is the training split (else the test split).</summary>
    public bool Train { get; }

    /// <summary>Loads one split.</summary>
    /// <param name="root">Folder holding the four IDX files, raw or <c>.gz</c>.</param>
    /// <param name="train">Training split (60,000 for MNIST) or test split (10,000).</param>
    /// <param name="download">Download missing files from the mirrors (MD5-checked).</param>
    /// <param name="transform">Applied once to all images, e.g. <c>new Compose(new Resize(32), Normalize.Tutorial)</c>.</param>
    /// <param name="device">Where the tensors live; default CPU.</param>
    /// <param name="resources">Which dataset; default <see cref="MnistResources.Mnist"/>.</param>
    /// <param name="mirrors">Overrides the mirror list (see <see cref="MnistDownloader"/>).</param>
    /// <param name="log">Receives download progress lines.</param>
    /// <exception cref="FileNotFoundException">A file is missing and <paramref name="download"/> is off; the message says how to get it.</exception>
    /// <exception cref="DatasetFormatException">A file is malformed, or images and labels disagree.</exception>
    /// <exception cref="DatasetDownloadException">Downloading failed on every mirror.</exception>
    public MNIST(string root = DefaultRoot, bool train = true, bool download = false, ITransform? transform = null,
        Device? device = null, MnistResources? resources = null, IReadOnlyList<string>? mirrors = null, TextWriter? log = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Resources = resources ?? MnistResources.Mnist;
        Train = train;

        if (download)
            new MnistDownloader(log: log).DownloadMissingAsync(root, Resources, mirrors).GetAwaiter().GetResult();

        var imageFile = Locate(root, train ? Resources.TrainImages : Resources.TestImages, Resources);
        var labelFile = Locate(root, train ? Resources.TrainLabels : Resources.TestLabels, Resources);
        var images = IdxReader.Read(imageFile, dimensions: 3);
        var labels = IdxReader.Read(labelFile, dimensions: 1);
        Validate(images, imageFile, labels, labelFile, Resources.Classes.Count);

        using var scope = NewDisposeScope();
        var target = device ?? CPU;
        Images = ToImages(images, transform).to(target).MoveToOuterDisposeScope();
        Labels = tensor(labels.Data, [labels.Shape[0]], ScalarType.Byte).to(ScalarType.Int64).to(target).MoveToOuterDisposeScope();
    }

    /// <summary>Name of class <paramref name="label"/>, e.g. "7" for MNIST or "Sneaker" for Fashion-MNIST.</summary>
    public string ClassName(long label) => Resources.Classes[checked((int)label)];

    /// <summary>The first path that exists among <c>root/name</c> and <c>root/name.gz</c>.</summary>
    static string Locate(string root, DatasetFile file, MnistResources resources)
    {
        var raw = Path.Combine(root, file.Name);
        if (File.Exists(raw)) return raw;
        if (File.Exists(raw + ".gz")) return raw + ".gz";
        throw new FileNotFoundException(
            $"{file.Name} (or {file.Name}.gz) not found in {Path.GetFullPath(root)}. " +
            MnistDownloader.HowToGetFiles(root, resources) + " Or let the loader download them (download: true; the trainer does unless --no-download).",
            raw);
    }

    const int ImageSide = 28;

    static void Validate(IdxArray images, string imageFile, IdxArray labels, string labelFile, int classes)
    {
        if (images.Shape[1] != ImageSide || images.Shape[2] != ImageSide)
            throw new DatasetFormatException(imageFile, $"expected {ImageSide}x{ImageSide} images, found {images.Shape[1]}x{images.Shape[2]}");
        if (images.Shape[0] != labels.Shape[0])
            throw new DatasetFormatException(labelFile, $"expected {images.Shape[0]} labels, one per image in {Path.GetFileName(imageFile)}, found {labels.Shape[0]}");
        if (images.Shape[0] == 0)
            throw new DatasetFormatException(imageFile, "expected at least one image, found none");
        var bad = Array.FindIndex(labels.Data, l => l >= classes);
        if (bad >= 0)
            throw new DatasetFormatException(labelFile, $"expected labels 0 to {classes - 1}, found {labels.Data[bad]} at index {bad}");
    }

    /// <summary>Bytes → floats in [0, 1] → transform, a chunk at a time so the peak stays near the result's size.</summary>
    static Tensor ToImages(IdxArray images, ITransform? transform)
    {
        const int Chunk = 10_000;
        var n = images.Shape[0];
        var all = tensor(images.Data, [n, 1, ImageSide, ImageSide], ScalarType.Byte);
        Tensor? result = null;
        for (var start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(Chunk, n - start);
            var x = all.narrow(0, start, length).to(ScalarType.Float32).div_(255);
            if (transform is not null) x = transform.Apply(x);
            if (result is null)
            {
                result = empty([n, .. x.shape[1..]], ScalarType.Float32);
                result.MoveToOuterDisposeScope();
            }
            result.narrow(0, start, length).copy_(x);
        }
        return result!;
    }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
