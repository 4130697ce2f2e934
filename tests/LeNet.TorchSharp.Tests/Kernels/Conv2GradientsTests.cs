using LeNetTorchSharp.Kernels;
using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using TorchF = TorchSharp.torch.nn.functional;
using static LeNetTorchSharp.Tests.Kernels.Float64Reference;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>conv2 with the library's gradient kernels against libtorch's convolution: the same forward pass to float
/// rounding, input, weight and bias gradients held to float64 as closely as libtorch's.</summary>
public class Conv2GradientsTests
{
    sealed record Gradients(Tensor Output, Tensor? Input, Tensor Weight, Tensor? Bias);

    static Gradients Run(Func<Tensor, Tensor, Tensor?, Tensor> conv, ScalarType type, Tensor input, Tensor weight, Tensor? bias, Tensor gradOutput, bool inputGrad)
    {
        var x = input.to(type).clone().requires_grad_(inputGrad);
        var wt = weight.to(type).clone().requires_grad_(true);
        var bt = bias?.to(type).clone().requires_grad_(true);
        var output = conv(x, wt, bt);
        output.backward([gradOutput.to(type)]);
        return new(output.detach(), x.grad, wt.grad!, bt?.grad);
    }

    static void AssertSameAsLibtorch(int n, int c, int h, int w, bool bias, bool inputGrad, int seed)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var input = randn(n, c, h, w, generator: generator);
        var weight = randn(16, c, 5, 5, generator: generator);
        var b = bias ? randn(16, generator: generator) : null;
        var gradOutput = randn(n, 16, h - 4, w - 4, generator: generator);
        using (var wt = weight.clone().requires_grad_(true))
            Assert.That(Conv2GradientsFunction.Handles(input, wt, b), Is.True, "takes the kernel");

        var before = Conv2GradientsFunction.Calls;
        var actual = Run(Conv2GradientsFunction.Apply, ScalarType.Float32, input, weight, b, gradOutput, inputGrad);
        Assert.That(Conv2GradientsFunction.Calls - before, Is.EqualTo(1));
        var libtorch = Run((x, wt, bt) => TorchF.conv2d(x, wt, bt), ScalarType.Float32, input, weight, b, gradOutput, inputGrad);
        var exact = Run((x, wt, bt) => TorchF.conv2d(x, wt, bt), ScalarType.Float64, input, weight, b, gradOutput, inputGrad);
        // libtorch's own convolution, run with gradients off (inside an autograd function), may take another algorithm.
        AssertClose(actual.Output, libtorch.Output, "output");
        if (inputGrad) AssertAsAccurateAsLibtorch(actual.Input!, libtorch.Input!, exact.Input!, "input gradient", floor: 2e-6);
        else Assert.That(actual.Input, Is.Null);
        AssertAsAccurateAsLibtorch(actual.Weight, libtorch.Weight, exact.Weight, "weight gradient", floor: 2e-6);
        if (bias) AssertAsAccurateAsLibtorch(actual.Bias!, libtorch.Bias!, exact.Bias!, "bias gradient", floor: 2e-6);
        else Assert.That(actual.Bias, Is.Null);
    }

    // LeNet's conv2 at the training batch, MNIST's last batch (60,000 = 468 x 128 + 96), one image, and an odd batch.
    [TestCase(128)]
    [TestCase(96)]
    [TestCase(1)]
    [TestCase(13)]
    public void LeNets_conv2_matches_libtorch(int batch)
    {
        AssertSameAsLibtorch(batch, 6, 14, 14, bias: true, inputGrad: true, seed: batch);
    }

    [Test]
    public void Random_shapes_match_libtorch()
    {
        var random = new Random(29);
        for (var i = 0; i < 25; i++)
            AssertSameAsLibtorch(random.Next(1, 40), random.Next(1, 9), random.Next(5, 20), random.Next(5, 20),
                bias: random.Next(2) == 0, inputGrad: random.Next(4) > 0, seed: i);
    }

    [Test]
    public void Other_shapes_and_no_gradient_go_to_libtorch()
    {
        var input = randn(2, 6, 14, 14);
        using var weight = randn(16, 6, 5, 5).requires_grad_(true);
        Assert.That(Conv2GradientsFunction.Handles(input, weight, null), Is.True);
        Assert.That(Conv2GradientsFunction.Handles(input, randn(16, 6, 5, 5), null), Is.False, "a weight that needs no gradient");
        Assert.That(Conv2GradientsFunction.Handles(input, randn(8, 6, 5, 5).requires_grad_(true), null), Is.False, "8 output channels");
        Assert.That(Conv2GradientsFunction.Handles(input, randn(16, 6, 3, 3).requires_grad_(true), null), Is.False, "3x3 kernels");
        Assert.That(Conv2GradientsFunction.Handles(randn(2, 6, 4, 14), weight, null), Is.False, "an input smaller than the kernel");
        using (no_grad())
            Assert.That(Conv2GradientsFunction.Handles(input, weight, null), Is.False, "under no_grad");
    }

    [Test]
    public void Under_create_graph_the_gradients_are_themselves_differentiable()
    {
        using var scope = NewDisposeScope();
        var input = randn(3, 2, 9, 9);
        var weight = randn(16, 2, 5, 5);
        Tensor SecondOrder(Func<Tensor, Tensor, Tensor> conv, ScalarType type)
        {
            var x = input.to(type).requires_grad_(true);
            var w = weight.to(type).requires_grad_(true);
            var grads = autograd.grad([conv(x, w).pow(2).sum()], [x, w], retain_graph: true, create_graph: true);
            // A gradient penalty: differentiate the gradients' size again.
            return autograd.grad([grads[0].pow(2).sum() + grads[1].pow(2).sum()], [w])[0];
        }
        var actual = SecondOrder((x, w) => Conv2GradientsFunction.Apply(x, w, null), ScalarType.Float32);
        var libtorch = SecondOrder((x, w) => TorchF.conv2d(x, w), ScalarType.Float32);
        var exact = SecondOrder((x, w) => TorchF.conv2d(x, w), ScalarType.Float64);
        AssertAsAccurateAsLibtorch(actual, libtorch, exact, "second-order gradient", floor: 2e-6);
    }

    [Test]
    public void LeNet_takes_it_for_conv2_only_when_its_option_is_on_and_computes_the_same_gradients()
    {
        using var input = randn(16, 1, 32, 32);
        using var on = new LeNet(new LeNetOptions { UseConv1Kernel = false });
        using var off = new LeNet(new LeNetOptions { UseConv1Kernel = false, UseConv2Kernel = false });
        off.load_state_dict(on.state_dict());
        (Tensor Logits, Dictionary<string, Tensor> Grads) Run(LeNet net)
        {
            net.zero_grad();
            var logits = net.call(input);
            logits.pow(2).sum().backward();
            return (logits.detach(), net.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
        }
        var before = Conv2GradientsFunction.Calls;
        var a = Run(on);
        Assert.That(Conv2GradientsFunction.Calls - before, Is.EqualTo(1));
        before = Conv2GradientsFunction.Calls;
        var b = Run(off);
        Assert.That(Conv2GradientsFunction.Calls, Is.EqualTo(before));
        AssertClose(a.Logits, b.Logits, "logits");
        foreach (var (name, grad) in a.Grads) AssertClose(grad, b.Grads[name], name);

        using (no_grad())
        {
            before = Conv2GradientsFunction.Calls;
            using var _ = on.call(input);
            Assert.That(Conv2GradientsFunction.Calls, Is.EqualTo(before), "nothing to differentiate: libtorch's layer");
        }
    }
}
