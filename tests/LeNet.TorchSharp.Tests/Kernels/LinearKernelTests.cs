using LeNetTorchSharp.Kernels;
using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.TensorMemory;
using static LeNetTorchSharp.Tests.Kernels.Float64Reference;
using TorchF = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>The fully connected layer's kernel against float64 and libtorch's <c>linear</c>: values and every gradient to
/// float rounding, on the MLP's shapes and on shapes with every kind of remainder.</summary>
public class LinearKernelTests
{
    // Products of up to 784 terms in float32: the kernel's and libtorch's errors are both about 1e-7 of the largest value.
    const double Tolerance = 1e-5;

    static void AssumeAccelerated() =>
        Assume.That(LinearKernel.IsAccelerated && LibTorchThreads.Available, "no AVX-512 or no libgomp here: fc layers go to libtorch");

    // Batches that are and are not multiples of the block heights (4 forward, 8 for the gradients' rows), inputs that
    // are and are not multiples of 16 (a padded last column block) and of 48 (a one-vector block), outputs below 8.
    [TestCase(128, 784, 128)]
    [TestCase(7, 100, 10)]
    [TestCase(1, 16, 1)]
    [TestCase(13, 50, 9)]
    [TestCase(33, 129, 67)]
    [TestCase(4, 3, 4)]
    public void The_kernel_computes_linear_and_its_gradients_as_float64_does(int batch, int inFeatures, int outFeatures)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(batch * 1000 + inFeatures));
        var input = randn(batch, inFeatures, generator: generator);
        var weight = randn(outFeatures, inFeatures, generator: generator);
        var bias = randn(outFeatures, generator: generator);
        var gradOutput = randn(batch, outFeatures, generator: generator);

        var output = empty(batch, outFeatures);
        LinearKernel.Forward(Floats(input), Floats(weight), Floats(bias), Floats(output), inFeatures, outFeatures, 0, batch);
        var gradWeight = empty(outFeatures, inFeatures);
        LinearKernel.WeightGradient(Floats(gradOutput), Floats(input), Floats(gradWeight), batch, inFeatures, outFeatures, 0, inFeatures);
        var gradInput = empty(batch, inFeatures);
        LinearKernel.InputGradient(Floats(gradOutput), Floats(weight), Floats(gradInput), batch, inFeatures, outFeatures, 0, inFeatures);
        var gradBias = empty(outFeatures);
        LinearKernel.BiasGradient(Floats(gradOutput), Floats(gradBias), batch, outFeatures);

        Tensor x = input.to(ScalarType.Float64), w = weight.to(ScalarType.Float64), g = gradOutput.to(ScalarType.Float64);
        AssertClose(output, TorchF.linear(x, w, bias.to(ScalarType.Float64)), "output", Tolerance);
        AssertClose(gradWeight, g.t().mm(x), "weight gradient", Tolerance);
        AssertClose(gradInput, g.mm(w), "input gradient", Tolerance);
        AssertClose(gradBias, g.sum(dim: 0), "bias gradient", Tolerance);
    }

    [Test]
    public void Results_do_not_depend_on_how_rows_and_columns_are_split()
    {
        using var scope = NewDisposeScope();
        const int batch = 37, inFeatures = 150, outFeatures = 21;
        var generator = new Generator(9);
        var input = randn(batch, inFeatures, generator: generator);
        var weight = randn(outFeatures, inFeatures, generator: generator);
        var gradOutput = randn(batch, outFeatures, generator: generator);

        var whole = empty(batch, outFeatures);
        LinearKernel.Forward(Floats(input), Floats(weight), [], Floats(whole), inFeatures, outFeatures, 0, batch);
        var parts = empty(batch, outFeatures);
        foreach (var (first, end) in new[] { (0, 8), (8, 20), (20, 37) })
            LinearKernel.Forward(Floats(input), Floats(weight), [], Floats(parts), inFeatures, outFeatures, first, end);
        Assert.That(parts.equal(whole).all().item<bool>(), Is.True, "forward rows in three ranges");

        var wholeGrad = empty(outFeatures, inFeatures);
        LinearKernel.WeightGradient(Floats(gradOutput), Floats(input), Floats(wholeGrad), batch, inFeatures, outFeatures, 0, inFeatures);
        var partGrad = empty(outFeatures, inFeatures);
        foreach (var (first, end) in new[] { (0, 48), (48, 64), (64, 150) })
            LinearKernel.WeightGradient(Floats(gradOutput), Floats(input), Floats(partGrad), batch, inFeatures, outFeatures, first, end);
        Assert.That(partGrad.equal(wholeGrad).all().item<bool>(), Is.True, "weight gradient columns in three ranges");
    }

    [Test]
    public void Bad_sizes_are_refused_with_what_was_expected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            LinearKernel.Forward(new float[10], new float[19], [], new float[8], 5, 4, 0, 2));
        Assert.That(ex!.Message, Does.Contain("Expected at least 4 x 5 elements in weight; found 19"));
    }

    static (Tensor Output, Tensor? InputGrad, Tensor WeightGrad, Tensor? BiasGrad) Run(
        Func<Tensor, Tensor, Tensor?, Tensor> linear, Tensor input, Tensor weight, Tensor? bias, Tensor gradOutput, ScalarType type, bool inputGrad)
    {
        var x = input.to(type).clone().requires_grad_(inputGrad);
        var w = weight.to(type).clone().requires_grad_(true);
        var b = bias?.to(type).clone().requires_grad_(true);
        var output = linear(x, w, b);
        output.backward([gradOutput.to(type)]);
        return (output.detach(), x.grad, w.grad!, b?.grad);
    }

    [TestCase(128, 784, 128, true, false)]
    [TestCase(128, 784, 128, true, true)]
    [TestCase(60, 300, 250, false, true)]
    [TestCase(5, 1000, 70, true, true)]
    public void The_autograd_function_matches_libtorch_and_float64(int batch, int inFeatures, int outFeatures, bool hasBias, bool inputGrad)
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)(batch + outFeatures));
        var input = randn(batch, inFeatures, generator: generator);
        var weight = randn(outFeatures, inFeatures, generator: generator) * 0.05;
        var bias = hasBias ? randn(outFeatures, generator: generator) : null;
        var gradOutput = randn(batch, outFeatures, generator: generator);
        Assert.That(LinearFunction.Handles(input, weight, bias), Is.True, "takes the kernel");

        var before = LinearFunction.Calls;
        var actual = Run(LinearFunction.Apply, input, weight, bias, gradOutput, ScalarType.Float32, inputGrad);
        Assert.That(LinearFunction.Calls - before, Is.EqualTo(1));
        var libtorch = Run((x, w, b) => TorchF.linear(x, w, b), input, weight, bias, gradOutput, ScalarType.Float32, inputGrad);
        var exact = Run((x, w, b) => TorchF.linear(x, w, b), input, weight, bias, gradOutput, ScalarType.Float64, inputGrad);

        AssertClose(actual.Output, exact.Output, "output", Tolerance);
        AssertAsAccurateAsLibtorch(actual.WeightGrad, libtorch.WeightGrad, exact.WeightGrad, "weight gradient", floor: 1e-6);
        if (inputGrad) AssertAsAccurateAsLibtorch(actual.InputGrad!, libtorch.InputGrad!, exact.InputGrad!, "input gradient", floor: 1e-6);
        else Assert.That(actual.InputGrad, Is.Null);
        if (hasBias) AssertAsAccurateAsLibtorch(actual.BiasGrad!, libtorch.BiasGrad!, exact.BiasGrad!, "bias gradient", floor: 1e-6);
        else Assert.That(actual.BiasGrad, Is.Null);
    }

    [Test]
    public void Under_create_graph_the_gradients_are_differentiable_and_right()
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var generator = new Generator(17);
        var input = randn(16, 300, generator: generator);
        var weight = randn(250, 300, generator: generator) * 0.05;
        var bias = randn(250, generator: generator);
        (Tensor Weight, Tensor Bias, Tensor Second) Gradients(Func<Tensor, Tensor, Tensor, Tensor> linear, ScalarType type)
        {
            var x = input.to(type).requires_grad_(true);
            var w = weight.to(type).requires_grad_(true);
            var b = bias.to(type).requires_grad_(true);
            var grads = autograd.grad([linear(x, w, b).pow(2).sum()], [x, w, b], retain_graph: true, create_graph: true);
            return (grads[1], grads[2], autograd.grad([grads[0].pow(2).sum() + grads[1].pow(2).sum() + grads[2].pow(2).sum()], [x])[0]);
        }
        var actual = Gradients(LinearFunction.Apply, ScalarType.Float32);
        var exact = Gradients((x, w, b) => TorchF.linear(x, w, b), ScalarType.Float64);
        Assert.That(actual.Weight.requires_grad, Is.True);
        AssertClose(actual.Weight, exact.Weight, "weight gradient", Tolerance);
        AssertClose(actual.Bias, exact.Bias, "bias gradient", Tolerance);
        AssertClose(actual.Second, exact.Second, "the gradients' own gradient", Tolerance);
    }

    [Test]
    public void What_the_kernel_does_not_take_goes_to_libtorch()
    {
        var weight = randn(128, 784);
        Assert.That(LinearFunction.Handles(randn(4, 784, ScalarType.Float64), weight.to(ScalarType.Float64), null), Is.False, "float64");
        Assert.That(LinearFunction.Handles(randn(2, 4, 784), weight, null), Is.False, "a 3-D input");
        Assert.That(LinearFunction.Handles(randn(4, 128), randn(64, 128), null), Is.False, "a layer below MinimumWeights");
        Assert.That(LinearFunction.Handles(randn(0, 784), weight, null), Is.False, "an empty batch");
        Assert.That(LinearFunction.Handles(randn(4, 784), weight, randn(10)), Is.False, "a bias of the wrong length");
    }

    [Test]
    public void A_tanh_MLP_takes_the_kernel_for_fc1_only_when_its_option_is_on_and_trains_as_float64_does()
    {
        // A ReLU MLP runs whole on the fused function (MlpFunctionTests); other activations go layer by layer.
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var net = new Mlp(activation: Activation.Tanh);
        var without = new Mlp(activation: Activation.Tanh) { UseLinearKernel = false };
        without.load_state_dict(net.state_dict());
        var exact = new Mlp(activation: Activation.Tanh) { UseLinearKernel = false };
        exact.load_state_dict(net.state_dict());
        exact.to(ScalarType.Float64);
        var images = rand(64, 1, 28, 28, generator: new Generator(2));
        var labels = randint(0, 10, [64], generator: new Generator(3));

        var before = LinearFunction.Calls;
        var fused = MlpFunction.Calls;
        var loss = TorchF.cross_entropy(net.call(images), labels);
        Assert.That(LinearFunction.Calls - before, Is.EqualTo(1), "fc1 (100,352 weights) takes it; fc2 and fc3 are below MinimumWeights");
        Assert.That(MlpFunction.Calls, Is.EqualTo(fused), "tanh is not fused");
        loss.backward();
        before = LinearFunction.Calls;
        TorchF.cross_entropy(without.call(images), labels).backward();
        Assert.That(LinearFunction.Calls, Is.EqualTo(before), "UseLinearKernel = false");
        TorchF.cross_entropy(exact.call(images.to(ScalarType.Float64)), labels).backward();

        foreach (var name in new[] { "fc1.weight", "fc1.bias", "fc2.weight", "fc3.weight" })
        {
            var ours = net.get_parameter(name)!.grad!;
            AssertAsAccurateAsLibtorch(ours, without.get_parameter(name)!.grad!, exact.get_parameter(name)!.grad!, name, floor: 1e-6);
        }
    }

    [Test]
    public void LeNet_takes_the_kernel_for_fc1_only_when_its_option_is_on()
    {
        AssumeAccelerated();
        using var scope = NewDisposeScope();
        var net = new LeNet();
        var without = new LeNet(new LeNetOptions { UseLinearKernel = false });
        without.load_state_dict(net.state_dict());
        var images = randn(16, 1, 32, 32, generator: new Generator(5));

        var before = LinearFunction.Calls;
        var logits = net.call(images);
        Assert.That(LinearFunction.Calls - before, Is.EqualTo(1), "fc1 (48,000 weights) takes it; fc2 and fc3 are below MinimumWeights");
        before = LinearFunction.Calls;
        var expected = without.call(images);
        Assert.That(LinearFunction.Calls, Is.EqualTo(before), "UseLinearKernel = false");
        AssertClose(logits, expected, "logits", Tolerance);
    }

    [Test]
    public void A_hook_on_fc1_runs_and_fc1_goes_to_libtorch()
    {
        using var net = new Mlp();
        var fc1 = (TorchSharp.Modules.Linear)net.get_submodule("fc1");
        var seen = 0;
        var hook = fc1.register_forward_hook((_, _, output) => { seen++; return output; });
        var before = LinearFunction.Calls;
        using var output = net.call(randn(2, 784));
        Assert.That(seen, Is.EqualTo(1));
        Assert.That(LinearFunction.Calls, Is.EqualTo(before));
        hook.remove();
    }
}
