using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;

namespace LeNetTorchSharp.Tests.Training;

/// <summary>End-to-end runs of the trainer's job on real MNIST (data/mnist).</summary>
[Category("Integration")]
public class MnistTrainingTests
{
    [Test]
    public void Real_MNIST_has_60000_training_and_10000_test_images_with_every_digit()
    {
        var root = RepoPaths.RequireMnist();
        using var train = new MNIST(root, train: true);
        using var test = new MNIST(root, train: false, transform: Normalize.Tutorial, imageSize: 32);
        using var images = test.Images(0, test.Count);
        Assert.That(train.Count, Is.EqualTo(60_000));
        Assert.That(images.shape, Is.EqualTo(new long[] { 10_000, 1, 32, 32 }));
        Assert.That(train.Labels.bincount(null).data<long>().ToArray(), Has.All.GreaterThan(5000));
        Assert.That(images.min().item<float>(), Is.EqualTo(-1f));
        Assert.That(images.max().item<float>(), Is.EqualTo(1f));
    }

    [Test]
    public void One_epoch_of_the_default_LeNet_recipe_passes_98_percent()
    {
        var root = RepoPaths.RequireMnist();
        var output = new StringWriter();
        using var run = new LeNetTorchSharp.Tests.Data.TempFolder();
        var report = MnistTraining.Run(new MnistTrainingOptions { Epochs = 1, DataRoot = root, Download = false, Device = DeviceChoice.Cpu, RunFolder = run.Path }, output);

        Assert.That(report.Final.Samples, Is.EqualTo(10_000));
        Assert.That(report.Final.Accuracy, Is.GreaterThanOrEqualTo(0.98), output.ToString());
        Assert.That(output.ToString(), Does.Contain("epoch  1/1  train loss"));
    }

    [Test]
    public void One_epoch_of_the_MLP_passes_95_percent()
    {
        var root = RepoPaths.RequireMnist();
        var output = new StringWriter();
        using var run = new LeNetTorchSharp.Tests.Data.TempFolder();
        var report = MnistTraining.Run(new MnistTrainingOptions { Model = ModelKind.Mlp, Epochs = 1, DataRoot = root, Download = false, Device = DeviceChoice.Cpu, RunFolder = run.Path, Plots = false }, output);
        Assert.That(report.Final.Accuracy, Is.GreaterThanOrEqualTo(0.95), output.ToString());
    }

    [Test]
    public void Dry_run_trains_one_batch_and_saves_nothing()
    {
        var root = RepoPaths.RequireMnist();
        using var temp = new LeNetTorchSharp.Tests.Data.TempFolder();
        var output = new StringWriter();
        var report = MnistTraining.Run(new MnistTrainingOptions { DryRun = true, DataRoot = root, SavePath = temp.File("model.bin") }, output);
        Assert.That(report.Epochs, Is.Empty);
        Assert.That(output.ToString(), Does.Contain("dry run: one batch of 128, loss "));
        Assert.That(Directory.GetFiles(temp.Path), Is.Empty);
    }

    [Test]
    public void Saved_weights_load_into_a_fresh_model_with_the_same_accuracy()
    {
        var root = RepoPaths.RequireMnist();
        using var temp = new LeNetTorchSharp.Tests.Data.TempFolder();
        var path = temp.File("mlp.safetensors");
        var report = MnistTraining.Run(new MnistTrainingOptions { Model = ModelKind.Mlp, Epochs = 1, DataRoot = root, SavePath = path, Device = DeviceChoice.Cpu, RunFolder = temp.File("run"), Plots = false }, TextWriter.Null);

        using var model = new Mlp();
        LeNetTorchSharp.Serialization.Safetensors.LoadModel(model, path);
        using var test = new MNIST(root, train: false, transform: Normalize.MnistStatistics);
        using var trainer = new Trainer(model);
        Assert.That(trainer.Evaluate(test).Correct, Is.EqualTo(report.Final.Correct));
        Assert.That(Directory.GetFiles(temp.Path), Is.EqualTo(new[] { path }), "no temporary file is left beside the saved one");
        Assert.That(Directory.GetFiles(temp.File("run")).Where(f => f.EndsWith(".tmp")), Is.Empty);
    }
}
