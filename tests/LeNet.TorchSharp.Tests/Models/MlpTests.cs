using LeNetTorchSharp.Models;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Models;

public class MlpTests
{
    [Test]
    public void Default_Mlp_is_784_128_64_10_with_109386_parameters()
    {
        using var mlp = new Mlp();
        Assert.That(mlp.CountParameters().Total, Is.EqualTo(109_386));
        Assert.That(mlp.named_parameters().Select(p => p.name), Is.EqualTo(new[]
            { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias" }));
        Assert.That(mlp.get_parameter("fc2.weight")!.shape, Is.EqualTo(new long[] { 64, 128 }));
    }

    [Test]
    public void Tutorial_784_256_10_sigmoid_Mlp_has_203530_parameters()
    {
        using var mlp = new Mlp(hidden: [256], activation: Activation.Sigmoid);
        Assert.That(mlp.CountParameters().Total, Is.EqualTo(203_530));
        Assert.That(mlp.named_parameters().Select(p => p.name), Is.EqualTo(new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias" }));
    }

    [Test]
    public void Flat_and_image_shaped_inputs_give_the_same_logits()
    {
        using var mlp = new Mlp();
        using var images = randn(64, 1, 28, 28);
        using var fromImages = mlp.forward(images);
        using var fromFlat = mlp.forward(images.reshape(64, 784));
        Assert.That(fromImages.shape, Is.EqualTo(new long[] { 64, 10 }));
        Assert.That(fromFlat.allclose(fromImages), Is.True);
    }

    [TestCase(Activation.ReLU)]
    [TestCase(Activation.Sigmoid)]
    [TestCase(Activation.Tanh)]
    public void The_activation_is_applied_between_layers(Activation activation)
    {
        using var mlp = new Mlp(inputSize: 2, hidden: [3], outputSize: 1, activation: activation);
        using (no_grad())
        {
            mlp.get_parameter("fc1.weight")!.copy_(tensor(new float[] { 1, 0, 0, 1, -1, -1 }).reshape(3, 2));
            mlp.get_parameter("fc1.bias")!.zero_();
            mlp.get_parameter("fc2.weight")!.copy_(tensor(new float[] { 1, 1, 1 }).reshape(1, 3));
            mlp.get_parameter("fc2.bias")!.zero_();
        }
        // hidden pre-activations for x = (1, 2): (1, 2, -3)
        using var output = mlp.forward(tensor(new float[] { 1, 2 }).reshape(1, 2));
        var expected = activation switch
        {
            Activation.ReLU => 1 + 2 + 0,
            Activation.Sigmoid => 1 / (1 + Math.Exp(-1)) + 1 / (1 + Math.Exp(-2)) + 1 / (1 + Math.Exp(3)),
            _ => Math.Tanh(1) + Math.Tanh(2) + Math.Tanh(-3),
        };
        Assert.That(output.item<float>(), Is.EqualTo(expected).Within(1e-5));
    }

    [Test]
    public void Wrong_input_shape_names_expected_and_received_shapes()
    {
        using var mlp = new Mlp();
        var error = Assert.Throws<ArgumentException>(() => mlp.forward(randn(64, 1, 32, 32)));
        Assert.That(error!.Message, Does.StartWith(
            "Mlp expects input of shape [N, 784]; received [64, 1, 32, 32] (or N x 1 x 28 x 28 images, which are flattened)."));
        Assert.Throws<ArgumentException>(() => mlp.forward(randn(784)));
    }

    [Test]
    public void After_backward_every_parameter_has_a_gradient()
    {
        using var mlp = new Mlp();
        using var output = mlp.forward(randn(4, 784));
        output.sum().backward();
        Assert.That(mlp.parameters().All(p => p.grad is not null && p.grad.abs().sum().item<float>() > 0), Is.True);
    }

    [Test]
    public void Print_equals_PyTorch_print()
    {
        using var mlp = new Mlp();
        Assert.That(mlp.ToString(), Is.EqualTo(
            "Mlp(\n  (fc1): Linear(in_features=784, out_features=128, bias=True)\n  (fc2): Linear(in_features=128, out_features=64, bias=True)\n  (fc3): Linear(in_features=64, out_features=10, bias=True)\n)"));
        using var small = new Mlp(hidden: [256], activation: Activation.Sigmoid);
        Assert.That(small.ToString(), Is.EqualTo(
            "Mlp(\n  (fc1): Linear(in_features=784, out_features=256, bias=True)\n  (fc2): Linear(in_features=256, out_features=10, bias=True)\n)"));
    }

    [Test]
    public void Invalid_sizes_are_rejected_naming_the_argument()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(inputSize: 0))!.ParamName, Is.EqualTo("inputSize"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(hidden: [128, -1]))!.ParamName, Is.EqualTo("hidden"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new Mlp(outputSize: 0))!.ParamName, Is.EqualTo("outputSize"));
    }
}
