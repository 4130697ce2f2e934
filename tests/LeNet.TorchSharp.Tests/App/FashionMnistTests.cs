using LeNetTorchSharp.Models;
using LeNetTorchSharp.Tests.Data;
using TrainMnist;

namespace LeNetTorchSharp.Tests.App;

[Category("Integration")]
public class FashionMnistTests
{
    const string DebianPackage = "/usr/share/datasets/fashion-mnist";

    [Test]
    public void Training_on_Fashion_MNIST_copies_it_from_the_Debian_package_and_names_its_classes()
    {
        if (!Directory.Exists(DebianPackage))
            RepoPaths.Missing($"Fashion-MNIST is not installed ({DebianPackage}): apt-get install dataset-fashion-mnist");
        using var data = new TempFolder();
        using var run = new TempFolder();
        var output = new StringWriter();

        var report = TrainingJob.Run(Recipe.Fast with { Model = ModelKind.Mlp, Dataset = DatasetKind.FashionMnist },
            new RunOptions { Epochs = 1, DataRoot = data.Path, RunFolder = run.Path, Device = DeviceChoice.Cpu }, output);

        Assert.That(Directory.GetFiles(data.Path).Select(Path.GetFileName).Order(), Is.EqualTo(
            new[] { "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz" }));
        Assert.That(output.ToString(), Does.Contain("Data: Fashion-MNIST, 60,000 training and 10,000 test images"));
        Assert.That(output.ToString(), Does.Contain("T-shirt/top").And.Contain("Ankle boot"));
        Assert.That(File.ReadAllText(Path.Combine(run.Path, "confusion.txt")), Does.Contain("Sneaker"));
        Assert.That(report.Final.Accuracy, Is.GreaterThan(0.75));
    }
}
