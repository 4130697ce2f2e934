using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// A fully connected layer through <see cref="LinearKernel"/>: forward, and the weight's, bias's and (when asked for)
/// input's gradients, libtorch's values to float rounding.
/// </summary>
/// <remarks>
/// Why: the MLP's step is mostly fc1's two matrix products, which libtorch hands to MKL's 256-bit code on AMD CPUs; the
/// kernel's 512-bit loops on libtorch's threads take about half the forward's time and a third of the weight gradient's
/// on the AMD EPYC measured (bench/README.md). Anything the kernel does not handle (no AVX-512, another device or type,
/// an input that is not N x In, a libtorch not on libgomp) goes to the layer itself, and so does a layer with hooks.
/// <see cref="Models.Mlp.UseLinearKernel"/> and <see cref="Models.LeNetOptions.UseLinearKernel"/> turn it off for one
/// model.
/// </remarks>
internal sealed class LinearFunction : autograd.SingleTensorFunction<LinearFunction>
{
    public override string Name => "LinearKernelBackward";

    /// <summary>Calls that took the kernel, so that tests can tell it from libtorch's.</summary>
    internal static long Calls;

    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, through the kernel where it can.</summary>
    public static Tensor Forward(Linear layer, Tensor input) =>
        !ModuleHooks.Any(layer) && Handles(input, layer.weight!, layer.bias) ? Apply(input, layer.weight!, layer.bias) : layer.call(input);

    /// <summary>
    /// The fewest weights a layer has for the kernel to take it: below, handing the work to libtorch's threads and back
    /// costs more than the products save. Forward and backward at batch 128 against libtorch's: 784x128 (the MLP's fc1)
    /// 356 against 647 µs, 400x120 (LeNet's fc1) 246 against 402; 120x84 160 against 143, 128x64 126 against 120
    /// (bench/history.md).
    /// </summary>
    public const long MinimumWeights = 32_768;

    /// <summary>Whether the kernel takes <c>F.linear(input, weight, bias)</c>: float32 on the CPU of an x64 machine with
    /// AVX-512 whose libtorch runs on libgomp, an input of N x In, a weight of Out x In (none of them 0) with at least
    /// <see cref="MinimumWeights"/> elements, a bias of Out or none.</summary>
    public static bool Handles(Tensor input, Tensor weight, Tensor? bias) =>
        LinearKernel.IsAccelerated && LibTorchThreads.Available && weight.numel() >= MinimumWeights
        && input.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && input.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32
        && input.dim() == 2 && weight.dim() == 2 && input.shape[1] == weight.shape[1]
        && input.shape[0] > 0 && input.shape[1] > 0 && weight.shape[0] > 0
        && (bias is null || (bias.device_type == DeviceType.CPU && bias.dtype == ScalarType.Float32 && bias.shape.SequenceEqual([weight.shape[0]])))
        && Math.Max(input.numel(), Math.Max(weight.numel(), input.shape[0] * weight.shape[0])) <= int.MaxValue / sizeof(float);

    /// <summary><c>F.linear(input, weight, bias)</c>.</summary>
    public static Tensor Apply(Tensor input, Tensor weight, Tensor? bias)
    {
        Interlocked.Increment(ref Calls);
        var tracked = is_grad_enabled() && (input.requires_grad || weight.requires_grad || bias?.requires_grad == true);
        // Without a gradient to track, skip the autograd function and what it keeps for backward.
        if (!tracked)
        {
            using var x = input.contiguous();
            return Multiply(x, weight, bias);
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
        return Multiply(input, weight, bias);
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        Tensor input = saved[0], weight = saved[1];
        var hasBias = (bool)ctx.get_data("bias");
        var inputGrad = (bool)ctx.get_data("inputGrad");
        // Under create_graph the gradients must themselves be differentiable: libtorch's products build them.
        if (is_grad_enabled())
        {
            using var gradT = gradOutput.t();
            return [inputGrad ? gradOutput.mm(weight) : null!, gradT.mm(input), .. hasBias ? [gradOutput.sum(dim: 0)] : Array.Empty<Tensor>()];
        }
        var sizes = LinearProducts.Sizes.Of(input, weight);
        using var grad = gradOutput.contiguous();
        var gradInput = inputGrad ? LinearProducts.InputGradient(grad, weight, sizes) : null;
        var gradWeight = LinearProducts.WeightGradient(grad, input, sizes);
        return hasBias ? [gradInput!, gradWeight, LinearProducts.BiasGradient(grad, sizes)] : [gradInput!, gradWeight];
    }

    static Tensor Multiply(Tensor input, Tensor weight, Tensor? bias) =>
        LinearProducts.Forward(input, weight, bias, LinearProducts.Sizes.Of(input, weight));
}
