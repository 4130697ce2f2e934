using LeNetTorchSharp.Kernels;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.TensorMemory;
using static LeNetTorchSharp.Tests.Kernels.Float64Reference;
using TorchF = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>The convolution input-gradient kernel against <c>conv_transpose2d</c> in float64: LeNet's conv2 and shapes with
/// every remainder (odd heights, partial channel blocks, narrow and full-vector rows), whole and in chunks of the batch.</summary>
public class InputGradientKernelTests
{
    static void AssertMatchesFloat64(int batch, int inChannels, int outChannels, int height, int width, int seed, int chunks = 1)
    {
        using var scope = NewDisposeScope();
        var generator = new Generator((ulong)seed);
        var weight = randn(outChannels, inChannels, 5, 5, generator: generator);
        var gradOutput = randn(batch, outChannels, height - 4, width - 4, generator: generator);
        var shape = new Conv2dKernel.Shape(batch, inChannels, outChannels, height, width, 5);
        Assert.That(InputGradientKernel.Fits(shape), Is.True);

        var actual = full(new long[] { batch, inChannels, height, width }, float.NaN);
        var taps = InputGradientKernel.Taps(shape, Floats(weight));
        for (var chunk = 0; chunk < chunks; chunk++)
        {
            var (first, end) = LibTorchThreads.Range(batch, chunk, chunks);
            InputGradientKernel.Compute(shape, Floats(gradOutput), taps, Floats(actual), first, end);
        }
        var exact = TorchF.conv_transpose2d(gradOutput.to(ScalarType.Float64), weight.to(ScalarType.Float64));
        AssertClose(actual, exact, $"{batch}x{inChannels}x{height}x{width} from {outChannels} channels", tolerance: 1e-6);
    }

    static void AssumeAccelerated() => Assume.That(InputGradientKernel.IsAccelerated, "no AVX-512 here: conv2's input gradient goes to libtorch");

    [TestCase(128, 1)]
    [TestCase(128, 8)]
    [TestCase(1, 1)]
    [TestCase(13, 3)]
    public void LeNets_conv2_input_gradient_is_float64s_to_float_rounding(int batch, int chunks)
    {
        AssumeAccelerated();
        AssertMatchesFloat64(batch, 6, 16, 14, 14, seed: batch, chunks);
    }

    [Test]
    public void Random_shapes_are_float64s_to_float_rounding()
    {
        AssumeAccelerated();
        var random = new Random(41);
        for (var i = 0; i < 40; i++)
            AssertMatchesFloat64(random.Next(1, 9), random.Next(1, 14), random.Next(1, 21), random.Next(5, 24), random.Next(5, 17), seed: i,
                chunks: random.Next(1, 4));
    }

    [Test]
    public void Shapes_it_is_not_written_for_are_refused()
    {
        Assert.That(InputGradientKernel.Fits(new Conv2dKernel.Shape(2, 6, 16, 14, 17, 5)), Is.False, "rows wider than a vector");
        Assert.That(InputGradientKernel.Fits(new Conv2dKernel.Shape(2, 6, 16, 14, 14, 3)), Is.False, "3x3 kernels");
        var error = Assert.Throws<ArgumentException>(() =>
            InputGradientKernel.Compute(new Conv2dKernel.Shape(1, 1, 1, 5, 20, 5), new float[16], new float[25], new float[100], 0, 1));
        Assert.That(error!.Message, Does.Contain("inputs 5 to 16 wide"));
    }
}
