using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Inference;

/// <summary>The predictor takes any weights of LeNet or the MLP: with or without a model card, safetensors or PyTorch's.</summary>
public class PredictorTests
{
    static readonly ModelCard LeNetCard = new(ModelKind.LeNet, "MNIST", [.. MnistResources.Mnist.Classes], 0.1307, 0.3081);

    TempFolder temp = null!;
    Tensor digit = null!;

    [SetUp]
    public void Create()
    {
        temp = new TempFolder();
        manual_seed(4);
        digit = randint(0, 256, [1, 28, 28]).to(ScalarType.Byte);
    }

    [TearDown]
    public void Delete()
    {
        digit.Dispose();
        temp.Dispose();
    }

    [TestCase("lenet.safetensors", ModelKind.LeNet)]
    [TestCase("lenet.pt", ModelKind.LeNet)]
    [TestCase("mlp.pth", ModelKind.Mlp)]
    [TestCase("mlp.safetensors", ModelKind.Mlp)]
    public void Weights_without_a_model_card_are_told_apart_by_their_keys_and_shapes_and_predict_as_with_a_card(string file, ModelKind kind)
    {
        manual_seed(5);
        using var model = kind.Create();
        Weights.Save(model, temp.File(file));
        Weights.Save(model, temp.File("carded.safetensors"), LeNetCard with { Model = kind });

        using var bare = Predictor.Load(temp.File(file));
        using var carded = Predictor.Load(temp.File("carded.safetensors"));

        Assert.That(bare.Card.Model, Is.EqualTo(kind));
        Assert.That(bare.CardFromFile, Is.False);
        Assert.That(carded.CardFromFile, Is.True);
        Assert.That(bare.Card.Classes, Is.EqualTo(MnistResources.Mnist.Classes), "ten outputs: MNIST's digits");
        Assert.That((bare.Card.Mean, bare.Card.Std), Is.EqualTo((Normalize.MnistStatistics.Mean, Normalize.MnistStatistics.Std)));
        Assert.That(bare.Probabilities(digit), Is.EqualTo(carded.Probabilities(digit)));
    }

    [Test]
    public void The_normalization_asked_for_is_used_for_weights_without_a_card()
    {
        using var model = new LeNet();
        Weights.Save(model, temp.File("w.pt"));
        using var mnist = Predictor.Load(temp.File("w.pt"));
        using var tutorial = Predictor.Load(temp.File("w.pt"), normalization: Normalize.Tutorial);
        Assert.That((tutorial.Card.Mean, tutorial.Card.Std), Is.EqualTo((0.5, 0.5)));
        Assert.That(tutorial.Probabilities(digit), Is.Not.EqualTo(mnist.Probabilities(digit)));
    }

    [Test]
    public void Weights_of_neither_network_say_so_and_naming_one_gives_the_shape_that_differs()
    {
        using var other = new LeNet(new LeNetOptions { KernelSize = 3 });
        Weights.Save(other, temp.File("k3.pt"));

        var unknown = Assert.Throws<ArgumentException>(() => Predictor.Load(temp.File("k3.pt")));
        Assert.That(unknown!.ParamName, Is.EqualTo("model"), "the argument that would settle it");
        Assert.That(unknown!.Message, Does.StartWith($"{temp.File("k3.pt")}: cannot tell the architecture: the weights' keys and shapes (conv1.weight [6, 1, 3, 3], conv1.bias [6], conv2.weight [16, 6, 3, 3],"));
        Assert.That(unknown.Message, Does.EndWith("are neither LeNet's nor the MLP's with their default sizes; name the architecture (Parameter 'model')"));

        var named = Assert.Throws<WeightsException>(() => Predictor.Load(temp.File("k3.pt"), ModelKind.LeNet));
        Assert.That(named!.Message, Does.Contain("parameter 'conv1.weight': expected shape [6, 1, 5, 5] for LeNet, found [6, 1, 3, 3]"));
    }

    [Test]
    public void A_model_kind_or_normalization_that_contradicts_the_files_card_is_refused()
    {
        using var model = new LeNet();
        Weights.Save(model, temp.File("w.safetensors"), LeNetCard);
        Assert.That(Assert.Throws<ArgumentException>(() => Predictor.Load(temp.File("w.safetensors"), ModelKind.Mlp))!.Message,
            Does.StartWith($"{temp.File("w.safetensors")}: the file's model card says LeNet, not Mlp."));
        Assert.That(Assert.Throws<ArgumentException>(() => Predictor.Load(temp.File("w.safetensors"), normalization: Normalize.Tutorial))!.ParamName,
            Is.EqualTo("normalization"));
        using var agreeing = Predictor.Load(temp.File("w.safetensors"), ModelKind.LeNet, Normalize.MnistStatistics);
        Assert.That(agreeing.CardFromFile, Is.True);
    }

    [Test]
    public void An_output_layer_of_other_than_ten_classes_gets_numbered_classes()
    {
        using var model = new Mlp(outputSize: 3);
        Weights.Save(model, temp.File("three.pt"));
        using var predictor = Predictor.Load(temp.File("three.pt"));
        Assert.That(predictor.Card.Classes, Is.EqualTo(new[] { "0", "1", "2" }));
        Assert.That(predictor.Probabilities(digit), Has.Length.EqualTo(3));
    }

    [Test]
    public void An_extension_that_is_no_weights_format_is_refused_listing_them()
    {
        File.WriteAllText(temp.File("w.bin"), "x");
        Assert.That(Assert.Throws<ArgumentException>(() => Predictor.Load(temp.File("w.bin")))!.Message,
            Does.StartWith($"{temp.File("w.bin")}: expected weights ending in .ckpt, .safetensors, .pt, .pth; found '.bin'."));
        Assert.That(() => Predictor.Load(temp.File("w.onnx")), Throws.ArgumentException.With.Message.StartsWith(
            $"{temp.File("w.onnx")}: an exported ONNX model runs on ONNX Runtime: load it with OnnxPredictor (package LeNet.TorchSharp.OnnxRuntime)"));
    }
}
