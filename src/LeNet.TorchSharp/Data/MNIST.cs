using LeNetTorchSharp.Kernels;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// MNIST loaded whole into tensors: torchvision's <c>datasets.MNIST(root, train, transform, download)</c> for
/// TorchSharp, with its <c>data</c>, <c>targets</c> and <c>classes</c>.
/// </summary>
/// <remarks>
/// The IDX files are read and validated once. The images stay bytes (<see cref="data"/>) on the device, resized
/// once at load when <c>imageSize</c> asks for it (bilinear, rounded back to bytes as PIL's <c>Resize</c> does): a
/// quarter of the memory floats would take. <see cref="GetItems"/> turns a batch's bytes into floats in [0, 1]
/// (torchvision's <c>ToTensor</c>) and applies <see cref="transform"/> on the device: on the CPU with no transform or
/// <see cref="Normalize"/>, in one pass with the bits of libtorch's operations (README: "What this library does beyond TorchSharp"),
/// otherwise as a few element-wise libtorch operations per batch.
/// </remarks>
public class MNIST : ITensorDataset, IDisposable
{
    /// <summary>Side of the images as stored in the files.</summary>
    public const int FileImageSize = 28;

    /// <summary>The largest side images are resized to.</summary>
    public const int MaxImageSize = 1024;

    /// <summary>The most bytes the resized images of a split may take.</summary>
    const long MaxBytes = 2L << 30;

    /// <summary>The images as bytes: uint8, N x 1 x <see cref="ImageSize"/> x <see cref="ImageSize"/> (torchvision's <c>data</c>).</summary>
    public Tensor data { get; }

    /// <summary>The labels: int64, N, each in [0, <c>classes.Count</c>) (torchvision's <c>targets</c>).</summary>
    public Tensor targets { get; }

    /// <summary>Class names, index = label: "0" to "9" for MNIST.</summary>
    public IReadOnlyList<string> classes => Resources.Classes;

    /// <summary>Applied to float images in [0, 1] as they are fetched (per batch), or null.</summary>
    public torchvision.ITransform? transform { get; }

    /// <summary>The folder the files were read from.</summary>
    public string root { get; }

    /// <summary>Whether this is the training split (else the test split).</summary>
    public bool train { get; }

    /// <summary>Side of the stored images (28, or 32 for LeNet).</summary>
    public int ImageSize { get; }

    /// <summary>Number of samples (<c>len(dataset)</c>).</summary>
    public long Count => targets.shape[0];

    /// <summary>Where the tensors are.</summary>
    public Device Device => targets.device;

    internal MnistResources Resources { get; }

    /// <summary>
    /// The SHA-256 of the split's images and labels as loaded (hex): the data's identity, for a checkpoint to record so
    /// that a resumed run trains on the data it started with. Computed on first use (a few tenths of a second for MNIST).
    /// </summary>
    public string Fingerprint => fingerprint ??= Hash(data, targets);

    string? fingerprint;

    static string Hash(params Tensor[] tensors)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var tensor in tensors)
        {
            // A scope, not a using: where the tensor is already a contiguous CPU one, cpu() and contiguous() return it.
            using var scope = NewDisposeScope();
            sha.AppendData(tensor.cpu().contiguous().bytes);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>Loads one split of MNIST.</summary>
    /// <param name="root">Folder holding the four IDX files, raw or <c>.gz</c> (or where to download them).</param>
    /// <param name="train">Training split (60,000 images) or test split (10,000).</param>
    /// <param name="download">Download missing files from the mirrors, MD5-checked; <c>LENET_MNIST_MIRRORS</c> replaces the mirror list.</param>
    /// <param name="transform">Applied to float images in [0, 1] as they are fetched: any <c>torchvision.ITransform</c>, e.g.
    /// <see cref="Normalize.Tutorial"/> or <c>torchvision.transforms.Compose(...)</c> of TorchVision's and this library's.</param>
    /// <param name="imageSize">Side to resize the 28x28 images to, once, at load: 32 for LeNet, 28 (default) for none.</param>
    /// <param name="device">Where the tensors live; default CPU.</param>
    /// <param name="log">Receives download progress lines; default nowhere.</param>
    /// <exception cref="FileNotFoundException">A file is missing and <paramref name="download"/> is off; the message says how to get it.</exception>
    /// <exception cref="DatasetException">A file is malformed, images and labels disagree, or downloading failed on every mirror.</exception>
    public MNIST(string root, bool train = true, bool download = false, torchvision.ITransform? transform = null,
        int imageSize = FileImageSize, Device? device = null, TextWriter? log = null)
        : this(MnistResources.Mnist, root, train, download, transform, imageSize, device, log)
    {
    }

    /// <summary>Loads one split of <paramref name="resources"/>; <paramref name="mirrors"/> overrides its mirror list.</summary>
    internal MNIST(MnistResources resources, string root, bool train, bool download, torchvision.ITransform? transform,
        int imageSize, Device? device, TextWriter? log, IReadOnlyList<string>? mirrors = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (imageSize is < 1 or > MaxImageSize)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, $"imageSize: expected 1 to {MaxImageSize} (28 keeps MNIST's own size, 32 is LeNet's); found {imageSize}.");
        Resources = resources;
        this.root = root;
        this.train = train;
        this.transform = transform;
        ImageSize = imageSize;

        if (download)
            new MnistDownloader(log: log).DownloadMissingAsync(root, Resources, mirrors).GetAwaiter().GetResult();

        var imageFile = Locate(root, train ? Resources.TrainImages : Resources.TestImages, Resources);
        var labelFile = Locate(root, train ? Resources.TrainLabels : Resources.TestLabels, Resources);
        using var scope = NewDisposeScope();
        var images = IdxReader.ReadTensor(imageFile, dimensions: 3);
        var labels = IdxFile.Read(labelFile, dimensions: 1);
        Validate(images.shape, imageFile, labels, labelFile, Resources.Classes.Count);
        if (images.shape[0] * imageSize * imageSize > MaxBytes)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize,
                $"imageSize: {images.shape[0]:N0} images of {imageSize}x{imageSize} would take {InputFile.Size(images.shape[0] * imageSize * imageSize)}; expected at most {InputFile.Size(MaxBytes)}.");

        var target = device ?? CPU;
        data = ResizeImages(images.unsqueeze(1), imageSize).to(target).MoveToOuterDisposeScope();
        targets = tensor(labels.Data, [labels.Shape[0]], ScalarType.Byte).to(ScalarType.Int64).to(target).MoveToOuterDisposeScope();
        byteValues = ByteImageGather.Values(transform, ToFloat);
    }

    /// <summary>The samples at <paramref name="indices"/> (int64, on <see cref="Device"/>): float images N x 1 x S x S
    /// in [0, 1] with <see cref="transform"/> applied, and their int64 labels.</summary>
    public (Tensor Input, Tensor Target) GetItems(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (byteValues is not null && ByteImageGather.Handles(data, targets, indices))
            return ByteImageGather.Gather(data, targets, indices, byteValues);
        using var scope = NewDisposeScope();
        var x = ToFloat(data.index_select(0, indices));
        if (transform is not null) x = transform.call(x);
        return (x.MoveToOuterDisposeScope(), targets.index_select(0, indices).MoveToOuterDisposeScope());
    }

    /// <summary>What each byte value becomes in <see cref="GetItems"/>, where the transform allows a table (see <see cref="ByteImageGather"/>).</summary>
    readonly ByteImageGather.ByteValues? byteValues;

    /// <summary>Bytes to floats in [0, 1] (torchvision's <c>ToTensor</c>).</summary>
    static Tensor ToFloat(Tensor bytes)
    {
        // A Scalar disposed here rather than an implicit conversion left to the finalizer (see Trainer.TrainEpoch).
        using var byteRange = 255.ToScalar();
        return bytes.to(ScalarType.Float32).div_(byteRange);
    }

    /// <summary>The dataset as torchvision prints it: name, size, folder, split and transform.</summary>
    public override string ToString() =>
        $"Dataset {Resources.Name}\n    Number of datapoints: {Count}\n    Root location: {root}\n    Split: {(train ? "Train" : "Test")}" +
        (transform is null ? "" : $"\n    Transform: {transform}");

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

    static void Validate(long[] images, string imageFile, IdxFile labels, string labelFile, int classes)
    {
        if (images[1] != FileImageSize || images[2] != FileImageSize)
            throw new DatasetException(imageFile, $"expected {FileImageSize}x{FileImageSize} images, found {images[1]}x{images[2]}");
        if (images[0] != labels.Shape[0])
            throw new DatasetException(labelFile, $"expected {images[0]} labels, one per image in {Path.GetFileName(imageFile)}, found {labels.Shape[0]}");
        if (images[0] == 0)
            throw new DatasetException(imageFile, "expected at least one image, found none");
        var bad = Array.FindIndex(labels.Data, l => l >= classes);
        if (bad >= 0)
            throw new DatasetException(labelFile, $"expected labels 0 to {classes - 1}, found {labels.Data[bad]} at index {bad}");
    }

    /// <summary>
    /// Resizes N x 1 x H x W byte images to N x 1 x size x size bytes the way the dataset does at load: bilinear,
    /// rounded back to bytes, a chunk at a time (chunks small enough that their float copies stay in cache).
    /// Returns the input itself when it already has that size.
    /// </summary>
    internal static Tensor ResizeImages(Tensor all, int size)
    {
        ArgumentNullException.ThrowIfNull(all);
        const int Chunk = 256;
        var n = all.shape[0];
        if (all.shape[2] == size && all.shape[3] == size) return all;

        var result = empty([n, 1, size, size], ScalarType.Byte);
        var resize = new Resize(size);
        using var black = 0.ToScalar();
        using var white = 255.ToScalar();
        for (long start = 0; start < n; start += Chunk)
        {
            using var scope = NewDisposeScope();
            var length = Math.Min(Chunk, n - start);
            var resized = resize.call(all.narrow(0, start, length).to(ScalarType.Float32));
            // Rounded back to bytes, as resizing a PIL image does before ToTensor.
            result.narrow(0, start, length).copy_(resized.round_().clamp_(black, white).to(ScalarType.Byte));
        }
        return result;
    }

    /// <summary>Releases the tensors.</summary>
    public void Dispose()
    {
        data.Dispose();
        targets.Dispose();
        GC.SuppressFinalize(this);
    }
}
