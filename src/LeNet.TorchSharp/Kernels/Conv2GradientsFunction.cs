using TorchSharp;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.TensorMemory;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The autograd function behind <see cref="Conv2Gradients"/>: libtorch's convolution forward, and backward with the
/// weight's and bias's gradients from <see cref="WeightGradientKernel"/> and the input's from <see cref="InputGradientKernel"/>.
/// </summary>
/// <remarks>
/// Where the input gradient kernel does not fit (inputs wider than one vector) or the CPU has no AVX-512, the input's
/// gradient is <c>conv_transpose2d(gradOutput, weight)</c>, the primitive libtorch's own convolution backward runs for it
/// (oneDNN's backward_data). Both kernels run in one pass over chunks of the batch on libtorch's threads.
/// </remarks>
internal sealed class Conv2GradientsFunction : autograd.SingleTensorFunction<Conv2GradientsFunction>
{
    public override string Name => "Conv2KernelBackward";

    /// <summary>Calls that took this path, so that tests can tell it from libtorch's.</summary>
    internal static long Calls;

    /// <summary>Whether this path takes the convolution: float32 on the CPU of an x64 machine with AVX2 whose libtorch runs
    /// on libgomp, a weight of 16 x C x 5 x 5 that needs a gradient, an input of N x C x H x W with H, W at least 5, a
    /// bias of 16 or none. Anything else goes to libtorch.</summary>
    public static bool Handles(Tensor input, Tensor weight, Tensor? bias) =>
        WeightGradientKernel.IsAccelerated && LibTorchThreads.Available
        && is_grad_enabled() && weight.requires_grad
        && ConvolutionArguments.AreCpuFloat32(input, weight, bias)
        && weight.shape[0] == WeightGradientKernel.OutChannels && weight.shape[2] == WeightGradientKernel.Kernel
        && input.numel() <= int.MaxValue / sizeof(float)
        && input.shape[0] * WeightGradientKernel.OutChannels * (input.shape[2] - 4) * (input.shape[3] - 4) <= int.MaxValue / sizeof(float);

    /// <summary><c>conv2d(input, weight, bias)</c>, stride 1, no padding.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias)
    {
        Interlocked.Increment(ref Calls);
        return bias is null ? apply(input, weight) : apply(input, weight, bias);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = ((Tensor)vars[0]).contiguous();
        var weight = (Tensor)vars[1];
        var bias = vars.Length > 2 ? (Tensor)vars[2] : null;
        ctx.save_for_backward([input, weight]);
        ctx.save_data("bias", bias is not null);
        ctx.save_data("inputGrad", ((Tensor)vars[0]).requires_grad);
        // libtorch's forward pass, its input channels padded where libtorch's own is wrong.
        return PaddedConv2d.Conv(input, weight, bias);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        Tensor input = saved[0], weight = saved[1];
        var hasBias = (bool)ctx.get_data("bias");
        var inputGrad = (bool)ctx.get_data("inputGrad");
        // Under create_graph the gradients must themselves be differentiable: let libtorch's convolution build them.
        if (is_grad_enabled()) return DifferentiableGradients(input, weight, hasBias, inputGrad, gradOutput);

        var s = ConvolutionArguments.Shape(input, weight);
        using var grad = gradOutput.contiguous();
        // The input's gradient on the kernel where it fits (a row in one vector), else libtorch's primitive.
        var inputKernel = inputGrad && InputGradientKernel.IsAccelerated && InputGradientKernel.Fits(s);
        var gradInput = !inputGrad ? null : inputKernel ? empty_like(input) : nn.functional.conv_transpose2d(gradOutput, weight);
        float[]? taps = null;
        if (inputKernel)
        {
            using var w = weight.detach().contiguous();
            taps = InputGradientKernel.Taps(s, Floats(w));
        }
        // One set of sums per chunk of the batch, added up in chunk order; each chunk writes its own images' input gradient.
        var chunks = LibTorchThreads.ChunkCount(s.Batch);
        var weightSums = new float[chunks][];
        var biasSums = new float[chunks][];
        LibTorchThreads.ForRanges(s.Batch, chunks, (chunk, first, end) =>
        {
            weightSums[chunk] = new float[s.WeightLength];
            biasSums[chunk] = new float[s.OutChannels];
            WeightGradientKernel.Accumulate(s, Floats(input), Floats(grad), weightSums[chunk], biasSums[chunk], first, end);
            if (taps is not null) InputGradientKernel.Compute(s, Floats(grad), taps, Floats(gradInput!), first, end);
        });
        var gradWeight = empty_like(weight);
        LibTorchThreads.SumInOrder(weightSums).CopyTo(Floats(gradWeight));
        if (!hasBias) return [gradInput!, gradWeight];
        var gradBias = empty(s.OutChannels, ScalarType.Float32);
        LibTorchThreads.SumInOrder(biasSums).CopyTo(Floats(gradBias));
        return [gradInput!, gradWeight, gradBias];
    }

    // The input's gradient depends on the weight and the weight's on the input, so both stay attached: the saved tensors
    // are the function's inputs, and autograd records the gradients' own graph through them.
    static List<Tensor> DifferentiableGradients(Tensor input, Tensor weight, bool hasBias, bool inputGrad, Tensor gradOutput)
    {
        using var output = PaddedConv2d.Conv(input, weight, null);
        var grads = autograd.grad([output], inputGrad ? [input, weight] : [weight], [gradOutput], create_graph: true);
        var gradInput = inputGrad ? grads[0] : null;
        var gradWeight = grads[inputGrad ? 1 : 0];
        return hasBias ? [gradInput!, gradWeight, gradOutput.sum([0, 2, 3])] : [gradInput!, gradWeight];
    }
}
