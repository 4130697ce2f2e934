using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// A network's first convolution (stride 1, no padding) computed by this library's vectorized CPU kernel: libtorch's
/// values to float rounding, and its gradients for the weight, the bias and, when asked for, the input.
/// </summary>
/// <remarks>
/// Why it exists: LeNet's conv1 (1 → 6 channels, 5x5) on libtorch's oneDNN takes 0.42–0.54 ms forward and as much again
/// for the weight's gradient at batch 128 on two cores, about half of it reordering into and out of oneDNN's 16-channel
/// blocked layout; the kernel, on libtorch's own threads (<see cref="LibTorchThreads"/>), takes 0.18 and 0.28 ms, and a
/// whole LeNet step 4.1 ms instead of 5.2 (bench/README.md). Its input gradient (a saliency map asks for it) is right
/// where libtorch 2.10's is not on some CPUs (bench/history.md). Anything the kernel does not handle (another device or
/// type, a libtorch not on libgomp) goes to libtorch (<see cref="PaddedConv2d"/>), and a layer with hooks to the layer itself, so hooks run as PyTorch runs them. <see cref="Models.LeNetOptions.UseConv1Kernel"/> turns it off for one model.
/// </remarks>
internal static class InputConv2d
{
    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, through the kernel where it can.</summary>
    public static Tensor Forward(Conv2d layer, Tensor input) =>
        !ModuleHooks.Any(layer) && InputConv2dFunction.Handles(input, layer.weight!, layer.bias)
            ? InputConv2dFunction.Apply(input, layer.weight!, layer.bias)
            : PaddedConv2d.Forward(layer, input);
}
