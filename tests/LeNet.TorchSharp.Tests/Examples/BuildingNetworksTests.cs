using BuildingNetworks;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Tests.Data;
using SkiaSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>Part B of the tutorial ("Building networks with nn"): each step of examples/BuildingNetworks,
/// on a small generated MNIST-format set so the steps run anywhere.</summary>
public class BuildingNetworksTests
{
    TempFolder data = null!;
    TempFolder output = null!;

    [SetUp]
    public void CreateData()
    {
        manual_seed(0);
        data = new TempFolder();
        output = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
    }

    [TearDown]
    public void DeleteData()
    {
        data.Dispose();
        output.Dispose();
    }

    static (int Width, int Height, double Spread) ReadPng(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, $"{path} is not a readable image");
        var lum = new List<double>();
        for (var y = 0; y < bitmap.Height; y += 4)
            for (var x = 0; x < bitmap.Width; x += 4)
            {
                var c = bitmap.GetPixel(x, y);
                lum.Add(0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue);
            }
        var mean = lum.Average();
        return (bitmap.Width, bitmap.Height, Math.Sqrt(lum.Average(v => (v - mean) * (v - mean))));
    }

    [Test]
    public void Step12_a_shuffled_batch_of_64_images_1x28x28_normalized_to_minus1_1()
    {
        var (trainset, batch) = Steps.LoadBatch(data.Path);
        using (trainset)
        using (batch)
        {
            Assert.That(batch.Images.shape, Is.EqualTo(new long[] { 64, 1, 28, 28 }));
            Assert.That(batch.Labels.shape, Is.EqualTo(new long[] { 64 }));
            Assert.That(batch.Images.min().item<float>(), Is.GreaterThanOrEqualTo(-1f));
            Assert.That(batch.Images.max().item<float>(), Is.LessThanOrEqualTo(1f));
            Assert.That(batch.Labels.data<long>().ToArray(), Is.Not.EqualTo(trainset.Labels[..64].data<long>().ToArray()), "shuffled");
        }
    }

    [Test]
    public void Step13_one_digit_is_written_as_a_grayscale_PNG_with_the_digits_pixels()
    {
        var (trainset, batch) = Steps.LoadBatch(data.Path);
        using (trainset)
        using (batch)
        {
            var path = Steps.SaveDigit(batch.Images, output.Path);
            var (width, height, spread) = ReadPng(path);
            Assert.That((width, height), Is.EqualTo((224, 224)), "28 x 28 pixels drawn 8 times larger");
            Assert.That(spread, Is.GreaterThan(10), "not blank");
        }
    }

    [Test]
    public void Step14_raw_weight_network_maps_64x784_to_64x10()
    {
        var (inputs, outputs) = Steps.RawWeightNetwork(randn(64, 1, 28, 28));
        Assert.That(inputs.shape, Is.EqualTo(new long[] { 64, 784 }));
        Assert.That(outputs.shape, Is.EqualTo(new long[] { 64, 10 }));
    }

    [Test]
    public void Step15_softmax_by_hand_rows_sum_to_1_and_equal_the_library_softmax()
    {
        var (_, outputs) = Steps.RawWeightNetwork(randn(64, 1, 28, 28));
        var probabilities = Steps.SoftmaxByHand(outputs);
        Assert.That(probabilities.shape, Is.EqualTo(new long[] { 64, 10 }));
        Assert.That(probabilities.sum(1).sub(1).abs().max().item<float>(), Is.LessThan(1e-5f));
        Assert.That(probabilities.allclose(functional.softmax(outputs, 1), rtol: 1e-4, atol: 1e-6), Is.True);
    }

    [Test]
    public void Step16_the_Network_class_and_its_functional_twin_give_probabilities()
    {
        var (network, functionalNetwork) = Steps.NetworkClasses();
        Assert.That(network.ToString(), Is.EqualTo(
            "Network(\n  (hidden): Linear(in_features=784, out_features=256, bias=True)\n  (output): Linear(in_features=256, out_features=10, bias=True)\n  (sigmoid): Sigmoid()\n  (softmax): Softmax(dim=1)\n)"));
        Assert.That(network.CountParameters().Total, Is.EqualTo(203_530));
        Assert.That(functionalNetwork.CountParameters().Total, Is.EqualTo(203_530));
        var x = randn(64, 784);
        foreach (var model in new Module<Tensor, Tensor>[] { network, functionalNetwork })
        {
            var ps = model.call(x);
            Assert.That(ps.shape, Is.EqualTo(new long[] { 64, 10 }));
            Assert.That(ps.sum(1).sub(1).abs().max().item<float>(), Is.LessThan(1e-5f));
        }
    }

    [Test]
    public void Step17_the_784_128_64_10_ReLU_network_outputs_probabilities()
    {
        var (model, ps) = Steps.ReluNetwork(randn(64, 784));
        Assert.That(model.CountParameters().Total, Is.EqualTo(109_386));
        Assert.That(ps.shape, Is.EqualTo(new long[] { 64, 10 }));
        Assert.That(ps.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(ps.sum(1).sub(1).abs().max().item<float>(), Is.LessThan(1e-5f));
    }

    [Test]
    public void Step18_custom_initialisation_zeroes_the_bias_and_draws_weights_with_std_0_01()
    {
        var (model, _) = Steps.ReluNetwork(randn(2, 784));
        var fc1 = Steps.CustomInitialisation(model);
        Assert.That(fc1.bias!.eq(0).all().item<bool>(), Is.True);
        Assert.That(fc1.weight!.mean().item<float>(), Is.EqualTo(0f).Within(0.001));
        Assert.That(fc1.weight.std().item<float>(), Is.EqualTo(0.01f).Within(0.0005));
        Assert.That(ReferenceEquals(fc1, model.Layer("fc1")), Is.True, "the model's own layer was changed");
    }

    [Test]
    public void Step19_view_classify_writes_a_figure_with_the_digit_and_10_probabilities()
    {
        var (trainset, batch) = Steps.LoadBatch(data.Path);
        using (trainset)
        using (batch)
        {
            var (path, ps, _) = Steps.ViewClassifyFigure(trainset, batch.Images[0], batch.Labels[0].item<long>(), output.Path);
            Assert.That(ps.shape, Is.EqualTo(new long[] { 1, 10 }));
            Assert.That(ps.sum().item<float>(), Is.EqualTo(1f).Within(1e-5));
            var (width, height, spread) = ReadPng(path);
            Assert.That((width, height), Is.EqualTo((900, 450)));
            Assert.That(spread, Is.GreaterThan(20), "not blank");
        }
    }

    [Test]
    public void Step20_Sequential_from_a_list_prints_and_indexes_by_position()
    {
        var model = Steps.SequentialFromList();
        Assert.That(model.Summary(), Does.StartWith("Sequential(\n  (0): Linear(in_features=784, out_features=128, bias=True)\n  (1): ReLU()\n"));
        Assert.That(model[0], Is.InstanceOf<Linear>());
        Assert.That(((Linear)model[0]).weight!.shape, Is.EqualTo(new long[] { 128, 784 }));
        Assert.That(model.call(randn(3, 784)).shape, Is.EqualTo(new long[] { 3, 10 }));
    }

    [Test]
    public void Step21_named_Sequential_prints_its_names_and_finds_layers_by_name_and_position()
    {
        var model = Steps.SequentialWithNames();
        Assert.That(model.Summary(), Is.EqualTo(
            "Sequential(\n  (fc1): Linear(in_features=784, out_features=128, bias=True)\n  (relu1): ReLU()\n  (fc2): Linear(in_features=128, out_features=64, bias=True)\n  (relu2): ReLU()\n  (output): Linear(in_features=64, out_features=10, bias=True)\n  (softmax): Softmax(dim=1)\n)"));
        Assert.That(model.Layer("fc1"), Is.SameAs(model[0]));
        Assert.That(model.Layer<Linear>("output").weight!.shape, Is.EqualTo(new long[] { 10, 64 }));
        var error = Assert.Throws<ArgumentException>(() => model.Layer("fc3"));
        Assert.That(error!.Message, Does.StartWith("Sequential has no layer named 'fc3'; its layers are: fc1, relu1, fc2, relu2, output, softmax."));
        Assert.Throws<ArgumentException>(() => model.Layer<Conv2d>("fc1"));
    }
}
