using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// LeNet's conv2 (16 output channels, 5x5) with its gradients computed by this library's vectorized CPU kernels:
/// libtorch's forward pass, input, weight and bias gradients to float rounding.
/// </summary>
/// <remarks>
/// Why it exists: libtorch's convolution backward for conv2 took 1.48–1.53 ms at batch 128 on two cores; its input
/// gradient alone (the same primitive, as <c>conv_transpose2d</c>) 0.57–0.63 ms. The weight gradient kernel
/// (<see cref="WeightGradientKernel"/>) and the input gradient kernel (<see cref="InputGradientKernel"/>, where .NET runs
/// AVX-512) share one pass over the batch on libtorch's threads (<see cref="LibTorchThreads"/>): 0.34–0.35 ms for the
/// input gradient, a LeNet step 10% less (bench/history.md). Anything the kernels do
/// not handle (another shape, device or type, no gradient to compute) goes to libtorch (<see cref="PaddedConv2d"/>),
/// a layer with hooks to the layer itself.
/// <see cref="Models.LeNetOptions.UseConv2Kernel"/> turns it off for one model.
/// </remarks>
internal static class Conv2Gradients
{
    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, through the kernel where it can.</summary>
    public static Tensor Forward(Conv2d layer, Tensor input) =>
        !ModuleHooks.Any(layer) && Conv2GradientsFunction.Handles(input, layer.weight!, layer.bias)
            ? Conv2GradientsFunction.Apply(input, layer.weight!, layer.bias)
            : PaddedConv2d.Forward(layer, input);
}
