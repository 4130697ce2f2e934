using LeNetTorchSharp.Kernels;
using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using TorchF = TorchSharp.torch.nn.functional;
using static LeNetTorchSharp.Tests.Kernels.Float64Reference;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>The library's first-layer convolution against libtorch's <c>conv2d</c>: the same values and weight and bias
/// gradients to float rounding, on LeNet's shape and on random ones.</summary>
public class InputConv2dTests
{
    static void AssertSameAsLibtorch(int n, int c, int o, int h, int w, int k, bool bias, int seed, bool inputGrad = false)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var input = randn(n, c, h, w, generator: generator);
        var weight = randn(o, c, k, k, generator: generator);
        var b = bias ? randn(o, generator: generator) : null;
        var gradOutput = randn(n, o, h - k + 1, w - k + 1, generator: generator);
        Assert.That(InputConv2dFunction.Handles(input, weight, b), Is.True, "takes the kernel");

        (Tensor Output, Tensor? InputGrad, Tensor WeightGrad, Tensor? BiasGrad) Run(Func<Tensor, Tensor, Tensor?, Tensor> conv, ScalarType type)
        {
            var x = input.to(type).clone().requires_grad_(inputGrad);
            var wt = weight.to(type).clone().requires_grad_(true);
            var bt = b?.to(type).clone().requires_grad_(true);
            var output = conv(x, wt, bt);
            output.backward([gradOutput.to(type)]);
            return (output.detach(), x.grad, wt.grad!, bt?.grad);
        }
        var before = InputConv2dFunction.Calls;
        var actual = Run(InputConv2dFunction.Apply, ScalarType.Float32);
        Assert.That(InputConv2dFunction.Calls - before, Is.EqualTo(1));
        var libtorch = Run((x, wt, bt) => TorchF.conv2d(x, wt, bt), ScalarType.Float32);
        var exact = Run((x, wt, bt) => TorchF.conv2d(x, wt, bt), ScalarType.Float64);
        AssertClose(actual.Output, libtorch.Output, "output");
        // Held to float64 alone: libtorch 2.10's own float32 input gradient is wrong for some of these shapes.
        if (inputGrad) AssertClose(actual.InputGrad!, exact.InputGrad!, "input gradient", 1e-5);
        else Assert.That(actual.InputGrad, Is.Null);
        AssertAsAccurateAsLibtorch(actual.WeightGrad, libtorch.WeightGrad, exact.WeightGrad, "weight gradient", floor: 1e-6);
        if (bias) AssertAsAccurateAsLibtorch(actual.BiasGrad!, libtorch.BiasGrad!, exact.BiasGrad!, "bias gradient", floor: 1e-6);
        else Assert.That(actual.BiasGrad, Is.Null);
    }

    [TestCase(128)]
    [TestCase(7)]
    [TestCase(1)]
    public void LeNets_conv1_input_gradient_matches_float64(int batch)
    {
        AssertSameAsLibtorch(batch, 1, 6, 32, 32, 5, bias: true, seed: batch, inputGrad: true);
    }

    [Test]
    public void Random_shapes_input_gradients_match_float64()
    {
        var random = new Random(31);
        for (var i = 0; i < 25; i++)
        {
            var k = random.Next(1, 7);
            AssertSameAsLibtorch(random.Next(1, 20), random.Next(1, 4), random.Next(1, 10), random.Next(k, 20),
                random.Next(k + 7, 50), k, bias: random.Next(2) == 0, seed: 100 + i, inputGrad: true);
        }
    }

    [Test]
    public void A_saliency_map_through_LeNet_matches_a_float64_LeNet()
    {
        using var scope = NewDisposeScope();
        var net = new LeNet();
        // The same weights in float64 on libtorch's own layers: another code path, and exact enough to judge by.
        var reference = new LeNet(new LeNetOptions { UseConv1Kernel = false, UseConv2Kernel = false, UseMaxPoolKernel = false });
        reference.load_state_dict(net.state_dict());
        reference.to(ScalarType.Float64);
        var image = randn(4, 1, 32, 32, generator: new Generator(3));

        var x = image.clone().requires_grad_(true);
        net.call(x).max(1).values.sum().backward();
        var x64 = image.to(ScalarType.Float64).requires_grad_(true);
        reference.call(x64).max(1).values.sum().backward();

        AssertClose(x.grad!, x64.grad!, "the input's gradient", 1e-5);
    }

    [Test]
    public void LeNets_conv1_at_batch_128_matches_libtorch()
    {
        AssertSameAsLibtorch(128, 1, 6, 32, 32, 5, bias: true, seed: 1);
    }

    // Rows of exactly one vector, of four blocks (the three-channel paths) and of other counts; channel counts that are
    // and are not multiples of three; kernels of 1, 3 and 5; batches smaller and larger than the chunk count.
    [TestCase(1, 1, 6, 12, 12, 5, true)]
    [TestCase(3, 2, 7, 36, 36, 5, true)]
    [TestCase(9, 1, 4, 10, 30, 3, false)]
    [TestCase(17, 3, 3, 9, 20, 1, true)]
    [TestCase(5, 1, 2, 8, 40, 5, true)]
    public void Values_and_gradients_match_libtorch_conv2d(int n, int c, int o, int h, int w, int k, bool bias)
    {
        AssertSameAsLibtorch(n, c, o, h, w, k, bias, seed: n * 31 + w);
    }

    [Test]
    public void Random_shapes_match_libtorch_conv2d()
    {
        var random = new Random(23);
        for (var i = 0; i < 25; i++)
        {
            var k = random.Next(1, 7);
            AssertSameAsLibtorch(random.Next(1, 40), random.Next(1, 4), random.Next(1, 10), random.Next(k, 20),
                random.Next(k + 7, 50), k, bias: random.Next(2) == 0, seed: i);
        }
    }

    [Test]
    public void Inputs_the_kernel_does_not_take_go_to_libtorch()
    {
        var weight = randn(6, 1, 5, 5);
        Assert.That(InputConv2dFunction.Handles(randn(2, 1, 32, 32, ScalarType.Float64), weight.to(ScalarType.Float64), null), Is.False, "float64");
        Assert.That(InputConv2dFunction.Handles(randn(2, 1, 11, 11), weight, null), Is.False, "output rows narrower than a vector");
        Assert.That(InputConv2dFunction.Handles(randn(2, 3, 32, 32), weight, null), Is.False, "channels that do not match");
    }

    [Test]
    public void Under_create_graph_the_gradient_is_itself_differentiable()
    {
        using var scope = NewDisposeScope();
        var input = randn(4, 1, 16, 16);
        var weight = randn(3, 1, 3, 3).requires_grad_(true);
        var grad = autograd.grad([InputConv2dFunction.Apply(input, weight, null).pow(2).sum()], [weight], create_graph: true)[0];
        var expected = autograd.grad([TorchF.conv2d(input, weight).pow(2).sum()], [weight], create_graph: true)[0];
        AssertClose(grad, expected, "gradient");
        Assert.That(grad.requires_grad, Is.True);
    }

    /// <summary>Under create_graph the input's gradient is built from libtorch's differentiable operations: right (held to
    /// float64) and itself differentiable, and differentiating it again is right too (libtorch's convolutions there run
    /// with their channels padded where libtorch's own are wrong: <c>PaddedConv2d</c>).</summary>
    [Test]
    public void Under_create_graph_the_input_gradient_matches_float64_and_is_differentiable()
    {
        using var scope = NewDisposeScope();
        var input = randn(3, 1, 16, 16, generator: new Generator(4));
        var weight = randn(6, 1, 5, 5, generator: new Generator(5));
        (Tensor First, Tensor Second) InputGradients(Func<Tensor, Tensor, Tensor> conv, ScalarType type)
        {
            var x = input.to(type).requires_grad_(true);
            var w = weight.to(type).requires_grad_(true);
            var first = autograd.grad([conv(x, w).pow(2).sum()], [x], retain_graph: true, create_graph: true)[0];
            return (first, autograd.grad([first.pow(2).sum()], [x])[0]);
        }
        var actual = InputGradients((x, w) => InputConv2dFunction.Apply(x, w, null), ScalarType.Float32);
        var exact = InputGradients((x, w) => TorchF.conv2d(x, w), ScalarType.Float64);
        Assert.That(actual.First.requires_grad, Is.True);
        AssertClose(actual.First, exact.First, "input gradient", 1e-5);
        AssertClose(actual.Second, exact.Second, "the input gradient's own gradient", 1e-5);
    }

    [Test]
    public void LeNet_takes_the_kernel_for_conv1_only_when_its_option_is_on()
    {
        using var input = randn(8, 1, 32, 32);
        using var withKernel = new LeNet();
        using var withoutKernel = new LeNet(new LeNetOptions { UseConv1Kernel = false });
        withoutKernel.load_state_dict(withKernel.state_dict());

        var before = InputConv2dFunction.Calls;
        using var a = withKernel.call(input);
        Assert.That(InputConv2dFunction.Calls - before, Is.EqualTo(1));
        before = InputConv2dFunction.Calls;
        using var b = withoutKernel.call(input);
        Assert.That(InputConv2dFunction.Calls, Is.EqualTo(before));
        AssertClose(a, b, "logits");
    }

    [Test]
    public void A_hook_on_conv1_runs_and_conv1_goes_to_libtorch()
    {
        using var net = new LeNet();
        var conv1 = (TorchSharp.Modules.Conv2d)net.get_submodule("conv1");
        var seen = 0;
        var hook = conv1.register_forward_hook((_, _, output) => { seen++; return output; });
        var before = InputConv2dFunction.Calls;
        using var output = net.call(randn(2, 1, 32, 32));
        Assert.That(seen, Is.EqualTo(1));
        Assert.That(InputConv2dFunction.Calls, Is.EqualTo(before));
        hook.remove();
    }
}
