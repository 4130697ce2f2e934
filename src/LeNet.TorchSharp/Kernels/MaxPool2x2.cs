using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// <c>F.max_pool2d(input, 2)</c> computed by this library's vectorized CPU kernel: the same values and
/// gradients as libtorch's, bit for bit, NaN and ties included.
/// </summary>
/// <remarks>
/// Why it exists: libtorch's CPU max pooling finds each window's maximum and its index in a scalar loop, which
/// made it one of the dearest layers of a LeNet step (bench/README.md). Only float32 on the CPU of an x64 machine
/// with AVX2 takes the kernel; anything else goes to libtorch's <c>max_pool2d</c>, which also reports invalid
/// input. <see cref="Models.LeNetOptions.UseMaxPoolKernel"/> turns it off for one model.
/// </remarks>
internal static class MaxPool2x2
{
    /// <summary>Max-pools each 2x2 window with stride 2, as <c>F.max_pool2d(input, 2)</c>.</summary>
    /// <param name="input">N x C x H x W or C x H x W.</param>
    /// <returns>N x C x H/2 x W/2 (or C x H/2 x W/2), sizes rounded down.</returns>
    public static Tensor Forward(Tensor input) =>
        MaxPool2x2Function.Handles(input)
            ? MaxPool2x2Function.Apply(input)
            : nn.functional.max_pool2d(input, [2, 2]);
}
