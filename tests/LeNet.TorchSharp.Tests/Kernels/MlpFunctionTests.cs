using LeNetTorchSharp.Kernels;
using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using static LeNetTorchSharp.Tests.Kernels.Float64Reference;
using TorchF = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>A ReLU MLP as one fused autograd function against the same MLP on libtorch's layers, in float32 and float64:
/// logits and every gradient, the input's and second derivatives included.</summary>
public class MlpFunctionTests
{
    static void AssumeAccelerated() =>
        Assume.That(LinearKernel.IsAccelerated && LibTorchThreads.Available, "no AVX-512 or no libgomp here: the MLP runs on libtorch");

    static (Mlp Net, Mlp Libtorch, Mlp Exact) ThreeCopies(int[] hidden, int inputSize = 784)
    {
        var net = new Mlp(inputSize, hidden);
        var libtorch = new Mlp(inputSize, hidden) { UseLinearKernel = false };
        libtorch.load_state_dict(net.state_dict());
        var exact = new Mlp(inputSize, hidden) { UseLinearKernel = false };
        exact.load_state_dict(net.state_dict());
        exact.to(ScalarType.Float64);
        return (net, libtorch, exact);
    }

    // The tutorial's MLP, a deeper and wider one (a hidden layer of MinimumWeights or more beyond fc1), a single layer,
    // and widths that are not multiples of 16; batches of 1, 7 and 128.
    [TestCase(new[] { 128, 64 }, 784, 128)]
    [TestCase(new[] { 128, 64 }, 784, 1)]
    [TestCase(new[] { 300, 200, 50 }, 784, 7)]
    [TestCase(new int[0], 784, 16)]
    [TestCase(new[] { 37, 21 }, 100, 9)]
    public void Logits_and_every_gradient_match_float64(int[] hidden, int inputSize, int batch)
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var (net, libtorch, exact) = ThreeCopies(hidden, inputSize);
        var input = randn(batch, inputSize, generator: new Generator((ulong)batch));
        var labels = randint(0, 10, [batch], generator: new Generator(7));

        var before = MlpFunction.Calls;
        var logits = net.call(input);
        Assert.That(MlpFunction.Calls - before, Is.EqualTo(1), "one fused call for the whole network");
        TorchF.cross_entropy(logits, labels).backward();
        TorchF.cross_entropy(libtorch.call(input), labels).backward();
        var exactLogits = exact.call(input.to(ScalarType.Float64));
        TorchF.cross_entropy(exactLogits, labels).backward();

        AssertClose(logits.detach(), exactLogits.detach(), "logits", 1e-5);
        foreach (var (name, parameter) in net.named_parameters())
            AssertAsAccurateAsLibtorch(parameter.grad!, libtorch.get_parameter(name)!.grad!, exact.get_parameter(name)!.grad!, name, floor: 1e-6);
    }

    [Test]
    public void Evaluation_gives_the_training_forwards_bits()
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var net = new Mlp();
        var input = randn(33, 784, generator: new Generator(3));
        var tracked = net.call(input);
        using (no_grad())
        {
            var evaluated = net.call(input);
            Assert.That(evaluated.equal(tracked.detach()).all().item<bool>(), Is.True);
        }
    }

    [Test]
    public void A_saliency_map_and_its_own_gradient_match_float64()
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var (net, _, exact) = ThreeCopies([128, 64]);
        var image = randn(4, 784, generator: new Generator(11));
        (Tensor First, Tensor Second, Tensor Weight) Gradients(Mlp model, ScalarType type)
        {
            var x = image.to(type).requires_grad_(true);
            var first = autograd.grad([model.call(x).max(1).values.sum()], [x], retain_graph: true, create_graph: true)[0];
            var penalty = first.pow(2).sum();
            var fc2 = model.get_parameter("fc2.weight")!;
            var second = autograd.grad([penalty], [x, fc2]);
            return (first, second[0], second[1]);
        }
        var before = MlpFunction.Calls;
        var actual = Gradients(net, ScalarType.Float32);
        Assert.That(MlpFunction.Calls - before, Is.EqualTo(1));
        var reference = Gradients(exact, ScalarType.Float64);
        Assert.That(actual.First.requires_grad, Is.True);
        AssertClose(actual.First, reference.First, "the input's gradient", 1e-5);
        AssertClose(actual.Second, reference.Second, "its own gradient", 1e-5);
        AssertClose(actual.Weight, reference.Weight, "its gradient for fc2's weight", 1e-5);
    }

    [Test]
    public void Other_activations_hooks_and_the_switch_go_layer_by_layer()
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var input = randn(8, 784);
        var before = MlpFunction.Calls;
        new Mlp(activation: Activation.Sigmoid).call(input);
        new Mlp { UseLinearKernel = false }.call(input);
        var hooked = new Mlp();
        var seen = 0;
        var fc2 = (TorchSharp.Modules.Linear)hooked.get_submodule("fc2");
        fc2.register_forward_hook((_, _, output) => { seen++; return output; });
        hooked.call(input);
        Assert.That(MlpFunction.Calls, Is.EqualTo(before));
        Assert.That(seen, Is.EqualTo(1), "the hook ran");
        Assert.That(MlpFunction.Handles(input.to(ScalarType.Float64), [nn.Linear(784, 10)]), Is.False, "float64 input");
        Assert.That(MlpFunction.Handles(randn(0, 784), [nn.Linear(784, 10)]), Is.False, "an empty batch");
        Assert.That(MlpFunction.Handles(input, [nn.Linear(700, 10)]), Is.False, "widths that do not chain");
    }
}
