using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Fashion-MNIST, Zalando's 28x28 clothing images in MNIST's format: torchvision's <c>datasets.FashionMNIST</c>.
/// Ten classes, from "T-shirt/top" to "Ankle boot"; 60,000 training and 10,000 test images.
/// </summary>
/// <remarks>Downloads try Debian's <c>dataset-fashion-mnist</c> package folder first, when it is installed.</remarks>
public sealed class FashionMNIST : MNIST
{
    /// <summary>Loads one split; the parameters are <see cref="MNIST"/>'s.</summary>
    /// <exception cref="FileNotFoundException">A file is missing and <paramref name="download"/> is off; the message says how to get it.</exception>
    /// <exception cref="DatasetException">A file is malformed, images and labels disagree, or downloading failed on every mirror.</exception>
    public FashionMNIST(string root, bool train = true, bool download = false, torchvision.ITransform? transform = null,
        int imageSize = FileImageSize, Device? device = null, TextWriter? log = null)
        : base(MnistResources.FashionMnist, root, train, download, transform, imageSize, device, log)
    {
    }
}
