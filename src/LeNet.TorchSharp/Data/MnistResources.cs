namespace LeNetTorchSharp.Data;

/// <summary>
/// The files of an MNIST-format dataset and where to download them (torchvision's <c>resources</c> and <c>mirrors</c>).
/// </summary>
/// <param name="Name">Display name, e.g. "MNIST".</param>
/// <param name="TrainImages">Training images, N x 28 x 28.</param>
/// <param name="TrainLabels">Training labels, N.</param>
/// <param name="TestImages">Test images.</param>
/// <param name="TestLabels">Test labels.</param>
/// <param name="Mirrors">Base addresses tried in order; each serves every file as <c>name.gz</c>.</param>
/// <param name="Classes">Class names, index = label.</param>
public sealed record MnistResources(
    string Name,
    DatasetFile TrainImages,
    DatasetFile TrainLabels,
    DatasetFile TestImages,
    DatasetFile TestLabels,
    IReadOnlyList<string> Mirrors,
    IReadOnlyList<string> Classes)
{
    /// <summary>The four files.</summary>
    public IEnumerable<DatasetFile> Files => [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>MNIST: handwritten digits, 60,000 training and 10,000 test images (checksums: see data/README.md).</summary>
    public static MnistResources Mnist { get; } = new(
        "MNIST",
        new("train-images-idx3-ubyte", 47_040_016, "6bbc9ace898e44ae57da46a324031adb", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        new("train-labels-idx1-ubyte", 60_008, "a25bea736e30d166cdddb491f175f624", "d53e105ee54ea40749a09fcbcd1e9432"),
        new("t10k-images-idx3-ubyte", 7_840_016, "2646ac647ad5339dbf082846283269ea", "9fb629c4189551a2d022fa330f9573f3"),
        new("t10k-labels-idx1-ubyte", 10_008, "27ae3e4e09519cfbb04c329615203637", "ec29112dd5afa0611ce80d1b7f02629c"),
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
}
