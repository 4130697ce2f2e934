using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>What both convolution kernels' autograd functions read off their tensors before taking a convolution.</summary>
internal static class ConvolutionArguments
{
    /// <summary>Whether the input and weight are 4-D float32 CPU tensors with the same channel count, the weight's kernel
    /// square and no larger than the input, and the bias, if any, a float32 CPU vector of one value per output channel.</summary>
    public static bool AreCpuFloat32(Tensor input, Tensor weight, Tensor? bias) =>
        input.device_type == DeviceType.CPU && weight.device_type == DeviceType.CPU
        && input.dtype == ScalarType.Float32 && weight.dtype == ScalarType.Float32
        && (bias is null || (bias.device_type == DeviceType.CPU && bias.dtype == ScalarType.Float32 && bias.shape.SequenceEqual([weight.shape[0]])))
        && input.dim() == 4 && weight.dim() == 4
        && input.shape[1] == weight.shape[1] && weight.shape[2] == weight.shape[3]
        && input.shape[2] >= weight.shape[2] && input.shape[3] >= weight.shape[3];

    /// <summary>The kernels' sizes of a stride-1, unpadded convolution of <paramref name="input"/> by <paramref name="weight"/>.</summary>
    public static Conv2dKernel.Shape Shape(Tensor input, Tensor weight) => new(
        (int)input.shape[0], (int)input.shape[1], (int)weight.shape[0], (int)input.shape[2], (int)input.shape[3], (int)weight.shape[2]);
}
