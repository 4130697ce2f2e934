using LeNetTorchSharp.Kernels;
using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using TorchF = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>The library's 2x2 max pool against libtorch's <c>max_pool2d</c>: same values, same gradients, bit for bit.</summary>
public class MaxPool2x2Tests
{
    // Equal bit for bit: NaN where the other has NaN, and the same sign on zeros.
    static bool Same(Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape)
        && (a.eq(b) | (a.isnan() & b.isnan())).all().item<bool>()
        && a.signbit().eq(b.signbit()).all().item<bool>();

    static (Tensor Output, Tensor Grad) PoolAndGrad(Func<Tensor, Tensor> pool, Tensor input, Tensor weights)
    {
        var x = input.clone().requires_grad_(true);
        var output = pool(x);
        // A weighted sum, so that each output's gradient is different and a misrouted one shows.
        (output * weights).sum().backward();
        return (output.detach(), x.grad!);
    }

    static void AssertSameAsLibtorch(Tensor input)
    {
        using var scope = NewDisposeScope();
        var outputShape = TorchF.max_pool2d(input, [2, 2]).shape;
        var weights = randn(outputShape, generator: new Generator(7));
        var (expected, expectedGrad) = PoolAndGrad(x => TorchF.max_pool2d(x, [2, 2]), input, weights);
        var (actual, actualGrad) = PoolAndGrad(x => MaxPool2x2.Forward(x), input, weights);
        Assert.That(actual.shape, Is.EqualTo(expected.shape));
        Assert.That(Same(actual, expected), Is.True, "values");
        Assert.That(Same(actualGrad, expectedGrad), Is.True, "gradients");
    }

    // Rows of 14, 5, 4, 8 windows (whole blocks of four and a last block overlapping the one before),
    // and rows of 3 and 1 windows (one window at a time); even and odd sizes.
    [TestCase(128, 6, 28, 28)]
    [TestCase(4, 16, 10, 10)]
    [TestCase(2, 3, 7, 9)]
    [TestCase(1, 2, 4, 17)]
    [TestCase(2, 5, 6, 7)]
    [TestCase(1, 1, 2, 2)]
    public void Values_and_gradients_equal_libtorch_max_pool2d(long n, long c, long h, long w)
    {
        manual_seed(1);
        Assert.That(MaxPool2x2Function.Handles(randn(n, c, h, w)), Is.True, "takes the fast path");
        AssertSameAsLibtorch(randn(n, c, h, w));
    }

    [Test]
    public void Ties_send_the_gradient_to_the_first_maximum_in_the_window_as_libtorch_does()
    {
        manual_seed(2);
        // Small integers after a ReLU: most windows hold equal maxima, many all zeros.
        AssertSameAsLibtorch(randint(-2, 3, [8, 4, 12, 12]).to(ScalarType.Float32).relu());
        AssertSameAsLibtorch(zeros(2, 2, 4, 4));
    }

    [Test]
    public void An_unbatched_CxHxW_input_pools_like_libtorch()
    {
        manual_seed(3);
        AssertSameAsLibtorch(randn(6, 28, 28));
    }

    [Test]
    public void A_non_contiguous_input_pools_like_libtorch()
    {
        manual_seed(4);
        var transposed = randn(2, 3, 12, 10).transpose(2, 3);
        Assert.That(transposed.is_contiguous(), Is.False);
        AssertSameAsLibtorch(transposed);
    }

    [Test]
    public void Float64_goes_to_libtorch()
    {
        manual_seed(4);
        Assert.That(MaxPool2x2Function.Handles(randn(2, 3, 8, 8, ScalarType.Float64)), Is.False);
        AssertSameAsLibtorch(randn(2, 3, 8, 8, ScalarType.Float64));
    }

    [TestCase(28)]
    [TestCase(10)]
    [TestCase(6)]
    public void Windows_holding_NaN_or_minus_infinity_pool_and_route_gradients_as_libtorch_does(long size)
    {
        manual_seed(5);
        // NaN takes over the maximum and a later NaN takes it again; all -inf keeps the first element.
        var input = randn(16, 4, size, size);
        input = where(rand(input.shape) < 0.2, full_like(input, float.NaN), input);
        input = where(rand(input.shape) < 0.3, full_like(input, float.NegativeInfinity), input);
        AssertSameAsLibtorch(input);
    }

    [Test]
    public void The_kernel_rejects_spans_that_are_not_whole_planes()
    {
        Assert.That(() => MaxPool2x2Kernel.Forward(new float[10], new float[2], 2, 2),
            Throws.ArgumentException.With.Message.Contains("found 10 input and 2 output elements"));
        Assert.That(() => MaxPool2x2Kernel.Backward(new float[8], new float[2], new float[4], 2, 2),
            Throws.ArgumentException.With.Message.Contains("gradInput holds 4 elements"));
    }

    [Test]
    public void A_gradient_penalty_through_the_pool_differentiates_like_libtorchs()
    {
        // create_graph: the pool's gradient is differentiated again, with respect to what feeds gradOutput.
        manual_seed(6);
        var input = randn(2, 3, 8, 8);
        Tensor PenaltyGrad(Func<Tensor, Tensor> pool)
        {
            var x = input.clone().requires_grad_(true);
            var weights = randn(2, 3, 4, 4, generator: new Generator(8)).requires_grad_(true);
            var grad = autograd.grad([(pool(x * x) * weights).sum()], [x], retain_graph: true, create_graph: true)[0];
            // allow_unused: a gradient cut off from the weights fails the assertion, not the test host.
            return autograd.grad([grad.pow(2).sum()], [weights], allow_unused: true)[0];
        }
        var expected = PenaltyGrad(x => TorchF.max_pool2d(x, [2, 2]));
        var actual = PenaltyGrad(x => MaxPool2x2.Forward(x));
        Assert.That(actual.IsInvalid, Is.False, "the penalty does not reach the weights");
        Assert.That(Same(actual, expected), Is.True);
    }

    [Test]
    public void Under_no_grad_the_output_needs_no_gradient_and_has_libtorchs_values()
    {
        using var x = randn(2, 6, 28, 28, requires_grad: true);
        using var _ = no_grad();
        using var output = MaxPool2x2.Forward(x);
        using var expected = TorchF.max_pool2d(x, [2, 2]);
        Assert.That(output.requires_grad, Is.False);
        Assert.That(Same(output, expected), Is.True);
    }

    [Test]
    public void Integer_tensors_and_other_windows_go_to_libtorch()
    {
        Assert.That(MaxPool2x2Function.Handles(ones(1, 1, 4, 4, ScalarType.Int64)), Is.False);
        Assert.That(MaxPool2x2Function.Handles(ones(1, 1, 4, 4, ScalarType.Float16)), Is.False);
        Assert.That(MaxPool2x2Function.Handles(ones(1, 1, 1, 4)), Is.False, "too small: libtorch's error");
        Assert.That(MaxPool2x2Function.Handles(ones(4, 4)), Is.False, "rank 2: libtorch's error");
        using var pooled = MaxPool2x2.Forward(arange(16, ScalarType.Int64).reshape(1, 1, 4, 4));
        Assert.That(pooled.flatten().data<long>().ToArray(), Is.EqualTo(new long[] { 5, 7, 13, 15 }));
    }

    [Test]
    public void A_LeNet_with_the_kernel_off_sends_every_pool_to_libtorch_and_computes_the_same_bits()
    {
        using var input = randn(8, 1, 32, 32);
        Tensor Gradient(LeNet net)
        {
            net.zero_grad();
            net.call(input).pow(2).sum().backward();
            return net.get_parameter("conv1.weight")!.grad!.clone();
        }

        using var withKernel = new LeNet(new LeNetOptions { UseConv1Kernel = false, UseConv2Kernel = false });
        using var withoutKernel = new LeNet(new LeNetOptions { UseMaxPoolKernel = false, UseConv1Kernel = false, UseConv2Kernel = false });
        withoutKernel.load_state_dict(withKernel.state_dict());

        var before = MaxPool2x2Function.Calls;
        using var kernelGradient = Gradient(withKernel);
        Assert.That(MaxPool2x2Function.Calls - before, Is.EqualTo(2), "LeNet's two pools take the kernel");
        before = MaxPool2x2Function.Calls;
        using var libtorchGradient = Gradient(withoutKernel);
        Assert.That(MaxPool2x2Function.Calls, Is.EqualTo(before), "no pool of the other model takes the kernel");
        Assert.That(Same(libtorchGradient, kernelGradient), Is.True);
    }

    [Test]
    public void A_too_small_input_gets_libtorchs_error()
    {
        Assert.That(() => MaxPool2x2.Forward(ones(1, 1, 1, 4)), Throws.Exception);
    }
}
