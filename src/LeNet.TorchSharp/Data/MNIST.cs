using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// MNIST (or any dataset in its format, such as Fashion-MNIST), loaded whole into tensors: torchvision's
/// <c>datasets.MNIST(root, train, download, transform)</c> for TorchSharp.
/// </summary>
/// <remarks>
/// The IDX files are read and validated once. The images stay bytes (<see cref="Data"/>, like torchvision's
/// <c>dataset.data</c>) on the device: resized once at load when <c>imageSize</c> asks for it (bilinear,
/// rounded back to bytes as PIL's <c>Resize</c> does), a quarter of the memory floats would take.
/// <see cref="Images"/> and <see cref="ImagesAt"/> turn bytes into floats in [0, 1]
/// (torchvision's <c>ToTensor</c>) and apply <c>transform</c> (e.g. <see cref="Normalize"/>) per batch, on
/// the device, where it costs a few element-wise operations.
/// </remarks>
public sealed class MNIST : IDisposable
{
    /// <summary>MNIST's default folder, relative to the working directory (each dataset has its own: <see cref="MnistResources.DefaultRoot"/>).</summary>
    public const string DefaultRoot = "data/mnist";

    /// <summary>Side of MNIST's images as stored in the files.</summary>
    public const int FileImageSize = 28;

    /// <summary>The images as bytes: uint8, N x 1 x <see cref="ImageSize"/> x <see cref="ImageSize"/>.</summary>
    public Tensor Data { get; }

    /// <summary>Labels: int64, N, each in [0, classes).</summary>
    public Tensor Labels { get; }

    /// <summary>Applied to float images in [0, 1] whenever images are fetched (per batch), or null.</summary>
    public torchvision.ITransform? Transform { get; }

    /// <summary>Side of the stored images (28, or 32 for LeNet).</summary>
    public int ImageSize { get; }

    /// <summary>Number of samples.</summary>
    public long Count => Labels.shape[0];

    /// <summary>Files, class names and mirrors of the dataset.</summary>
    public MnistResources Resources { get; }

    /// <summary>Whether this is the training split (else the test split).</summary>
    public bool Train { get; }

    /// <summary>Loads one split.</summary>
    /// <param name="root">Folder holding the four IDX files, raw or <c>.gz</c>; default the dataset's own (data/mnist, data/fashion-mnist).</param>
    /// <param name="train">Training split (60,000 for MNIST) or test split (10,000).</param>
    /// <param name="download">Download missing files from the mirrors (MD5-checked).</param>
    /// <param name="transform">Applied to float images in [0, 1] as they are fetched: any <c>torchvision.ITransform</c>, e.g.
    /// <see cref="Normalize.Tutorial"/> or <c>torchvision.transforms.Compose(...)</c> of TorchVision's and this library's.</param>
    /// <param name="imageSize">Side to resize the 28x28 images to, once, at load: 32 for LeNet, 28 (default) for none.</param>
    /// <param name="device">Where the tensors live; default CPU.</param>
    /// <param name="resources">Which dataset; default <see cref="MnistResources.Mnist"/>.</param>
    /// <param name="mirrors">Overrides the mirror list (see <see cref="MnistDownloader"/>).</param>
    /// <param name="log">Receives download progress lines.</param>
    /// <exception cref="FileNotFoundException">A file is missing and <paramref name="download"/> is off; the message says how to get it.</exception>
    /// <exception cref="DatasetFormatException">A file is malformed, or images and labels disagree.</exception>
    /// <exception cref="DatasetDownloadException">Downloading failed on every mirror.</exception>
    public MNIST(string? root = null, bool train = true, bool download = false, torchvision.ITransform? transform = null,
        int imageSize = FileImageSize, Device? device = null, MnistResources? resources = null, IReadOnlyList<string>? mirrors = null,
        TextWriter? log = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageSize);
        Resources = resources ?? MnistResources.Mnist;
        root ??= Resources.DefaultRoot;
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        Train = train;
        Transform = transform;
        ImageSize = imageSize;

        if (download)
            new MnistDownloader(log: log).DownloadMissingAsync(root, Resources, mirrors).GetAwaiter().GetResult();

        var imageFile = Locate(root, train ? Resources.TrainImages : Resources.TestImages, Resources);
        var labelFile = Locate(root, train ? Resources.TrainLabels : Resources.TestLabels, Resources);
        using var scope = NewDisposeScope();
        var images = IdxReader.ReadTensor(imageFile, dimensions: 3);
        var labels = IdxReader.Read(labelFile, dimensions: 1);
        Validate(images.shape, imageFile, labels, labelFile, Resources.Classes.Count);

        var target = device ?? CPU;
        Data = ResizeImages(images.unsqueeze(1), imageSize).to(target).MoveToOuterDisposeScope();
        Labels = tensor(labels.Data, [labels.Shape[0]], ScalarType.Byte).to(ScalarType.Int64).to(target).MoveToOuterDisposeScope();
    }

    /// <summary>Float images for samples <paramref name="start"/> to <paramref name="start"/> + <paramref name="length"/>:
    /// N x 1 x S x S in [0, 1], then <see cref="Transform"/>.</summary>
    public Tensor Images(long start, long length)
    {
        using var bytes = Data.narrow(0, start, length);
        return ToFloat(bytes);
    }

    /// <summary>Float images (as <see cref="Images(long, long)"/>) for the samples at <paramref name="indices"/> (int64, on the device).</summary>
    public Tensor ImagesAt(Tensor indices)
    {
        // Disposed here, not left to the garbage collector: the collector sees only the small managed handles,
        // so a batch's bytes would pile up between its rare runs.
        using var bytes = Data.index_select(0, indices);
        return ToFloat(bytes);
    }

    Tensor ToFloat(Tensor bytes)
    {
        using var scope = NewDisposeScope();
        var x = bytes.to(ScalarType.Float32).div_(255);
        if (Transform is not null) x = Transform.call(x);
        return x.MoveToOuterDisposeScope();
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
            MnistDownloader.HowToGetFiles(root, resources) + " Or let the loader download them (download: true).",
            raw);
    }

    static void Validate(long[] images, string imageFile, IdxArray labels, string labelFile, int classes)
    {
        if (images[1] != FileImageSize || images[2] != FileImageSize)
            throw new DatasetFormatException(imageFile, $"expected {FileImageSize}x{FileImageSize} images, found {images[1]}x{images[2]}");
        if (images[0] != labels.Shape[0])
            throw new DatasetFormatException(labelFile, $"expected {images[0]} labels, one per image in {Path.GetFileName(imageFile)}, found {labels.Shape[0]}");
        if (images[0] == 0)
            throw new DatasetFormatException(imageFile, "expected at least one image, found none");
        var bad = Array.FindIndex(labels.Data, l => l >= classes);
        if (bad >= 0)
            throw new DatasetFormatException(labelFile, $"expected labels 0 to {classes - 1}, found {labels.Data[bad]} at index {bad}");
    }

    /// <summary>
    /// Resizes N x 1 x H x W byte images to N x 1 x size x size bytes the way the dataset does at load: bilinear,
    /// rounded back to bytes, a chunk at a time (chunks small enough that their float copies stay in cache, which
    /// makes them faster than bigger ones).
    /// Returns the input itself when it already has that size.
    /// </summary>
    public static Tensor ResizeImages(Tensor all, int size)
    {
        ArgumentNullException.ThrowIfNull(all);
        const int Chunk = 256;
        var n = all.shape[0];
        if (all.shape[2] == size && all.shape[3] == size) return all;

        var result = empty([n, 1, size, size], ScalarType.Byte);
        var resize = new Resize(size);
        for (long start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(Chunk, n - start);
            var resized = resize.call(all.narrow(0, start, length).to(ScalarType.Float32));
            // Rounded back to bytes, as resizing a PIL image does before ToTensor.
            result.narrow(0, start, length).copy_(resized.round_().clamp_(0, 255).to(ScalarType.Byte));
        }
        return result;
    }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        Data.Dispose();
        Labels.Dispose();
    }
}
