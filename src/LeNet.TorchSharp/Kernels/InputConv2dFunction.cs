using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.ConvolutionArguments;
using static LeNetTorchSharp.Kernels.TensorMemory;

namespace LeNetTorchSharp.Kernels;

/// <summary>The autograd function behind <see cref="InputConv2d"/>: a network's first convolution, forward and the weight's
/// and bias's gradients through <see cref="Conv2dKernel"/>, and the input's when it is asked for.</summary>
/// <remarks>Training never asks for the input's gradient (a first layer reads data); a saliency map or an adversarial
/// example does, and libtorch 2.10's own for LeNet's conv1 is wrong on some CPUs (bench/history.md, 2026-12-01 evening),
/// so the kernel computes that one too.</remarks>
internal sealed class InputConv2dFunction : autograd.SingleTensorFunction<InputConv2dFunction>
{
    public override string Name => "InputConv2dBackward";

    /// <summary>Calls that took the kernel, so that tests can tell it from libtorch's.</summary>
    internal static long Calls;

    /// <summary>Whether the kernel takes this stride-1, unpadded convolution: float32 on the CPU of an x64 machine with
    /// AVX2 whose libtorch runs on libgomp (the kernel pays only on libtorch's threads), and output rows at least a vector
    /// wide. Anything else goes to libtorch.</summary>
    public static bool Handles(Tensor input, Tensor weight, Tensor? bias) =>
        Conv2dKernel.IsAccelerated && LibTorchThreads.Available
        && ConvolutionArguments.AreCpuFloat32(input, weight, bias)
        && Shape(input, weight) is { Fits: true } s
        && Math.Max(input.numel(), (long)s.OutputLength) <= int.MaxValue / sizeof(float);

    /// <summary><c>conv2d(input, weight, bias)</c>, stride 1, no padding.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias)
    {
        Interlocked.Increment(ref Calls);
        var tracked = is_grad_enabled() && (input.requires_grad || weight.requires_grad || bias?.requires_grad == true);
        // Without a gradient to track, skip the autograd function and what it keeps for backward.
        if (!tracked)
        {
            using var x = input.contiguous();
            return Convolve(x, weight, bias);
        }
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
        return Convolve(input, weight, bias);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        Tensor input = saved[0], weight = saved[1];
        var hasBias = (bool)ctx.get_data("bias");
        var inputGrad = (bool)ctx.get_data("inputGrad");
        // Under create_graph the gradients must themselves be differentiable: let libtorch's operations build them.
        if (is_grad_enabled()) return DifferentiableGradients(input, weight, hasBias, inputGrad, gradOutput);
        var s = Shape(input, weight);
        using var grad = gradOutput.contiguous();
        var chunks = LibTorchThreads.ChunkCount(s.Batch);
        Tensor? gradInput = null;
        if (inputGrad)
        {
            using var w = weight.detach().contiguous();
            var result = empty_like(input);
            // Images are independent: each chunk writes its own.
            LibTorchThreads.ForRanges(s.Batch, chunks, (_, first, end) =>
                Conv2dKernel.InputGradient(s, Floats(grad), Floats(w), Floats(result), first, end));
            gradInput = result;
        }
        // One set of lane sums per chunk of the batch, added up in chunk order (adding vectors adds their lanes, so they
        // are kept as floats).
        var weightSums = new float[chunks][];
        var biasSums = new float[chunks][];
        LibTorchThreads.ForRanges(s.Batch, chunks, (chunk, first, end) =>
        {
            weightSums[chunk] = new float[s.WeightLength * Vector256<float>.Count];
            biasSums[chunk] = new float[s.OutChannels * Vector256<float>.Count];
            Conv2dKernel.AccumulateGradients(s, Floats(input), Floats(grad), Vectors(weightSums[chunk]), Vectors(biasSums[chunk]), first, end);
        });
        var gradWeight = empty_like(weight);
        Conv2dKernel.Reduce(Vectors(LibTorchThreads.SumInOrder(weightSums)), Floats(gradWeight));
        if (!hasBias) return [gradInput!, gradWeight];
        var gradBias = empty(s.OutChannels, ScalarType.Float32);
        Conv2dKernel.Reduce(Vectors(LibTorchThreads.SumInOrder(biasSums)), Floats(gradBias));
        return [gradInput!, gradWeight, gradBias];
    }

    static Span<Vector256<float>> Vectors(float[] lanes) => MemoryMarshal.Cast<float, Vector256<float>>(lanes.AsSpan());

    static Tensor Convolve(Tensor input, Tensor weight, Tensor? bias)
    {
        var s = Shape(input, weight);
        using var w = weight.detach().contiguous();
        using var b = bias?.detach().contiguous();
        var output = empty([s.Batch, s.OutChannels, s.OutHeight, s.OutWidth], ScalarType.Float32);
        LibTorchThreads.ForRanges(s.Batch, LibTorchThreads.ChunkCount(s.Batch), (_, first, end) =>
            Conv2dKernel.Forward(s, Floats(input), Floats(w), b is null ? [] : Floats(b), Floats(output), first, end));
        return output;
    }

    static List<Tensor> DifferentiableGradients(Tensor input, Tensor weight, bool hasBias, bool inputGrad, Tensor gradOutput)
    {
        // The input's gradient depends on the weight: a full correlation of the zero-padded output gradient with the
        // flipped weight, as a forward convolution (libtorch's own input gradient is wrong for LeNet's conv1 on some CPUs),
        // its channels padded where libtorch's convolution is wrong too, so that differentiating it again is right.
        Tensor? gradInput = null;
        if (inputGrad)
        {
            var k = weight.shape[2] - 1;
            using var padded = nn.functional.pad(gradOutput, [k, k, k, k]);
            using var flipped = weight.flip(2, 3);
            using var swapped = flipped.transpose(0, 1);
            gradInput = PaddedConv2d.Conv(padded, swapped, null);
        }
        // The weight's and bias's gradients depend on the input and the output gradient, not on the weight.
        using var w = weight.detach().requires_grad_(true);
        using var b = hasBias ? zeros(weight.shape[0]).requires_grad_(true) : null;
        using var output = PaddedConv2d.Conv(input, w, b);
        var grads = autograd.grad([output], b is null ? [w] : [w, b], [gradOutput], create_graph: true);
        return b is null ? [gradInput!, grads[0]] : [gradInput!, grads[0], grads[1]];
    }

}
