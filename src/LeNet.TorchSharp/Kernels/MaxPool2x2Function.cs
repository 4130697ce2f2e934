using TorchSharp;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.TensorMemory;

namespace LeNetTorchSharp.Kernels;

/// <summary>The autograd function behind <see cref="MaxPool2x2"/>: forward and backward through <see cref="MaxPool2x2Kernel"/>.</summary>
/// <remarks>Backward finds each window's maximum again from the saved input rather than keeping indices from the
/// forward pass, which costs less than writing and reading them.</remarks>
internal sealed class MaxPool2x2Function : autograd.SingleTensorFunction<MaxPool2x2Function>
{
    public override string Name => "MaxPool2x2Backward";

    /// <summary>Whether <paramref name="input"/> takes this path; anything else goes to libtorch's max_pool2d,
    /// which also reports invalid input (too small, wrong rank) in its own words.</summary>
    public static bool Handles(Tensor input) =>
        MaxPool2x2Kernel.IsAccelerated
        && input.device_type == DeviceType.CPU
        && input.dtype == ScalarType.Float32
        && input.dim() is 3 or 4
        && input.shape[^2] >= 2 && input.shape[^1] >= 2
        && input.numel() <= int.MaxValue / sizeof(float);

    /// <summary>Calls that took the kernel, so that tests can tell it from libtorch's (the values are the same).</summary>
    internal static long Calls;

    /// <summary>The pooled tensor: <c>(N, C, H / 2, W / 2)</c> or <c>(C, H / 2, W / 2)</c>, rounded down.</summary>
    public static Tensor Apply(Tensor input)
    {
        Interlocked.Increment(ref Calls);
        // Without a gradient to track, skip the autograd function and what it keeps for backward.
        return input.requires_grad && is_grad_enabled() ? apply(input) : Pool(input);
    }

    static Tensor Pool(Tensor input)
    {
        using var contiguous = input.contiguous();
        var shape = (long[])input.shape.Clone();
        shape[^2] /= 2;
        shape[^1] /= 2;
        var output = empty(shape, ScalarType.Float32);
        int height = Height(input), width = Width(input);
        InChunks(contiguous, (start, end) => MaxPool2x2Kernel.Forward(
            Floats(contiguous)[(start * height * width)..(end * height * width)],
            Floats(output)[(start * (height / 2) * (width / 2))..(end * (height / 2) * (width / 2))], height, width));
        return output;
    }

    // The planes in chunks on libtorch's threads, when there is enough work to share: libtorch's own grain size
    // (32,768 elements); LeNet's pools at batch 128 are 18 and 6 times that. Planes are independent, so the result
    // is the same whichever thread pools which.
    static void InChunks(Tensor input, Action<int, int> pool)
    {
        var planes = (int)(input.numel() / (Height(input) * Width(input)));
        var chunks = LibTorchThreads.ChunkCount(planes, most: input.numel() >= 32768 ? LibTorchThreads.Chunks : 1);
        LibTorchThreads.ForRanges(planes, chunks, (_, start, end) => pool(start, end));
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = ((Tensor)vars[0]).contiguous();
        ctx.save_for_backward([input]);
        return Pool(input);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var input = ctx.get_saved_variables()[0];
        // Under create_graph (a gradient penalty, say) the gradient must itself be differentiable with
        // respect to gradOutput, and the kernel's is not: let libtorch's pooling, same values, build it.
        if (is_grad_enabled()) return [DifferentiableGradient(input, gradOutput)];
        using var grad = gradOutput.contiguous();
        // The kernel writes every element of every window; with an odd size, a row or column is in none.
        var gradInput = Height(input) % 2 == 0 && Width(input) % 2 == 0 ? empty_like(input) : zeros_like(input);
        int height = Height(input), width = Width(input), inPlane = height * width, outPlane = (height / 2) * (width / 2);
        InChunks(input, (start, end) => MaxPool2x2Kernel.Backward(
            Floats(input)[(start * inPlane)..(end * inPlane)], Floats(grad)[(start * outPlane)..(end * outPlane)],
            Floats(gradInput)[(start * inPlane)..(end * inPlane)], height, width));
        return [gradInput];
    }

    static Tensor DifferentiableGradient(Tensor input, Tensor gradOutput)
    {
        using var x = input.detach().requires_grad_(true);
        using var pooled = nn.functional.max_pool2d(x, [2, 2]);
        return autograd.grad([pooled], [x], [gradOutput], create_graph: true)[0];
    }

    static int Height(Tensor t) => (int)t.shape[^2];
    static int Width(Tensor t) => (int)t.shape[^1];
}
