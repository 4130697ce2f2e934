using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// A convolution on libtorch, with its channels padded with zeros where libtorch 2.10's own convolution is wrong: input
/// channels above 16 to a multiple of 16, and, when the input's gradient is wanted, output channels too. LeNet's
/// convolutions left to libtorch run on it, and so does every libtorch convolution the kernels call (conv2's forward
/// pass, the gradients built under <c>create_graph</c>).
/// </summary>
/// <remarks>
/// Why: libtorch 2.10's float32 convolution (oneDNN, 16-channel blocks on AVX-512) computes wrong outputs for input
/// channel counts above 16 that are not a multiple of 16, and wrong input gradients for output channel counts that
/// are not a multiple of 16, on the AMD EPYC this library is measured on (bench/history.md): a LeNet with
/// <c>Conv1Channels = 20</c> had logits 8% off and one with <c>Conv2Channels = 20</c> a conv1 weight gradient 14% off,
/// silently. Zero channels add zero to every sum, so the padded convolution is the same convolution, and on the
/// counts padded to libtorch is right (held to float64 by the tests for every LeNet width they try). Layers with hooks
/// run as they are, so that the hooks see the layer's own call; so do other devices and types.
/// </remarks>
internal static class PaddedConv2d
{
    const int Block = 16;

    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, padded when libtorch would get it wrong.</summary>
    public static Tensor Forward(Conv2d layer, Tensor input) =>
        ModuleHooks.Any(layer) || layer.groups != 1 || layer.padding_mode != PaddingModes.Zeros || layer.padding is null
            ? layer.call(input)
            : Conv(input, layer.weight!, layer.bias, layer.stride, layer.padding, layer.dilation);

    /// <summary><c>F.conv2d(input, weight, bias, stride, padding, dilation)</c> (one group), padded when libtorch would get it wrong.</summary>
    public static Tensor Conv(Tensor input, Tensor weight, Tensor? bias, long[]? stride = null, long[]? padding = null, long[]? dilation = null)
    {
        var shape = weight.shape;
        var (outChannels, inChannels) = (shape[0], shape[1]);
        var padIn = inChannels > Block && inChannels % Block != 0 ? RoundUp(inChannels) - inChannels : 0;
        var gradientWanted = is_grad_enabled() && input.requires_grad;
        var padOut = gradientWanted && outChannels % Block != 0 ? RoundUp(outChannels) - outChannels : 0;
        if ((padIn == 0 && padOut == 0) || input.dim() != 4 || input.device_type != DeviceType.CPU || input.dtype != ScalarType.Float32)
            return F.conv2d(input, weight, bias, stride, padding, dilation);

        using var scope = NewDisposeScope();
        // F.pad's list runs from the last dimension: (left, right) of each, so the channel dimension's is the third pair.
        var x = padIn > 0 ? F.pad(input, [0, 0, 0, 0, 0, padIn]) : input;
        var w = F.pad(weight, [0, 0, 0, 0, 0, padIn, 0, padOut]);
        var b = bias is not null && padOut > 0 ? F.pad(bias, [0, padOut]) : bias;
        var output = F.conv2d(x, w, b, stride, padding, dilation);
        return (padOut > 0 ? output[.., ..(int)outChannels].contiguous() : output).MoveToOuterDisposeScope();
    }

    static long RoundUp(long channels) => (channels + Block - 1) / Block * Block;
}
