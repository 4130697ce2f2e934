using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// <c>F.max_pool2d(input, 2)</c> computed by this library's vectorized CPU kernel: the same values and
/// gradients as libtorch's, bit for bit, NaN and ties included, in a fraction of the time.
/// </summary>
/// <remarks>
/// Why it exists: libtorch's CPU max pooling finds each window's maximum and its index in a scalar loop,
/// which made LeNet's first pool cost more than both its convolutions (bench/README.md has the figures).
/// Only float32 on the CPU of an x64 machine with AVX2 takes the kernel; anything else, and every call while
/// <see cref="Enabled"/> is false, goes to libtorch's <c>max_pool2d</c>, which also reports invalid input.
/// </remarks>
public static class MaxPool2x2
{
    /// <summary>
    /// Whether the kernel is used; set it to false to run libtorch's <c>max_pool2d</c> everywhere (to compare,
    /// or to rule the kernel out when chasing a problem). Applies process-wide, from the next call.
    /// </summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Max-pools each 2x2 window with stride 2, as <c>F.max_pool2d(input, 2)</c>.</summary>
    /// <param name="input">N x C x H x W or C x H x W.</param>
    /// <returns>N x C x H/2 x W/2 (or C x H/2 x W/2), sizes rounded down.</returns>
    public static Tensor max_pool2d(Tensor input) =>
        Enabled && MaxPool2x2Function.Handles(input)
            ? MaxPool2x2Function.Apply(input)
            : nn.functional.max_pool2d(input, [2, 2]);
}
