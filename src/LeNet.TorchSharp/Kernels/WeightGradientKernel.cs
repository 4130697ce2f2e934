using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The weight and bias gradients of a stride-1, unpadded convolution with 16 output channels and 5x5 kernels (LeNet's
/// conv2), vectorized across the output channels.
/// </summary>
/// <remarks>
/// <para>
/// Why: libtorch's convolution backward for conv2 (6 → 16 channels on 14x14) runs oneDNN's AVX2 weight-gradient kernel
/// with its reorders; its 10x10 output rows are too short to vectorize along, as <see cref="Conv2dKernel"/> does for
/// conv1, but its 16 output channels are two vectors exactly. The output gradient of a range of images is first copied
/// position-major (the 16 channels of one position side by side); then for each input channel and kernel row, ten
/// vectors of sums (5 taps x 16 channels) stay in registers while every position of every image adds its gradient
/// times the five input values under the kernel row.
/// </para>
/// <para>
/// Sums are taken in another order than libtorch's, so results agree with it to float rounding, not to the bit.
/// </para>
/// </remarks>
internal static class WeightGradientKernel
{
    /// <summary>The output channel count this kernel is written for.</summary>
    public const int OutChannels = 16;

    /// <summary>The kernel side this kernel is written for.</summary>
    public const int Kernel = 5;

    /// <summary>Whether this machine runs the 256-bit vector code in hardware (x64 with AVX2).</summary>
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    /// <summary>
    /// Adds the weight's and the bias's gradients over the images <paramref name="first"/> to <paramref name="end"/>
    /// (exclusive) into <paramref name="weightSums"/> (laid out as the weight) and <paramref name="biasSums"/>.
    /// </summary>
    public static void Accumulate(Conv2dKernel.Shape s, ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput,
        Span<float> weightSums, Span<float> biasSums, int first, int end)
    {
        if (s.OutChannels != OutChannels || s.Kernel != Kernel || s.OutHeight < 1 || s.OutWidth < 1)
            throw new ArgumentException($"Expected {OutChannels} output channels, {Kernel}x{Kernel} kernels and an output of at least 1x1; found {s.OutChannels}, {s.Kernel}x{s.Kernel} and {s.OutHeight}x{s.OutWidth}.");
        if (input.Length != s.InputLength || gradOutput.Length != s.OutputLength || weightSums.Length != s.WeightLength || biasSums.Length != OutChannels)
            throw new ArgumentException(
                $"Expected {s.InputLength} input, {s.OutputLength} output gradient, {s.WeightLength} weight and {OutChannels} bias elements; " +
                $"found {input.Length}, {gradOutput.Length}, {weightSums.Length} and {biasSums.Length}.");
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, s.Batch);
        if (end <= first) return;

        int positions = s.OutHeight * s.OutWidth, images = end - first;
        var byPosition = ArrayPool<float>.Shared.Rent(images * positions * OutChannels);
        try
        {
            // Position-major: the 16 channels' gradients at one position are two vectors.
            for (var n = 0; n < images; n++)
            {
                var plane = gradOutput.Slice((first + n) * OutChannels * positions, OutChannels * positions);
                var target = byPosition.AsSpan(n * positions * OutChannels, positions * OutChannels);
                for (var o = 0; o < OutChannels; o++)
                {
                    var channel = plane.Slice(o * positions, positions);
                    for (var p = 0; p < positions; p++) target[p * OutChannels + o] = channel[p];
                }
            }
            ref var gradRef = ref MemoryMarshal.GetArrayDataReference(byPosition);
            var total = images * positions;
            Vector256<float> bias0 = Vector256<float>.Zero, bias1 = Vector256<float>.Zero;
            for (var i = 0; i < total; i++)
            {
                bias0 += Vector256.LoadUnsafe(ref gradRef, (nuint)(i * OutChannels));
                bias1 += Vector256.LoadUnsafe(ref gradRef, (nuint)(i * OutChannels + 8));
            }
            for (var o = 0; o < 8; o++)
            {
                biasSums[o] += bias0[o];
                biasSums[o + 8] += bias1[o];
            }
            for (var c = 0; c < s.InChannels; c++)
            {
                for (var ky = 0; ky < Kernel; ky++)
                    AccumulateKernelRow(s, input, ref gradRef, weightSums, first, images, c, ky);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(byPosition);
        }
    }

    // The sums of one input channel's kernel row for all 16 output channels: ten vectors, in registers throughout.
    static void AccumulateKernelRow(Conv2dKernel.Shape s, ReadOnlySpan<float> input, ref float gradRef, Span<float> weightSums,
        int first, int images, int c, int ky)
    {
        int outH = s.OutHeight, outW = s.OutWidth, h = s.Height, w = s.Width;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default;
        for (var n = 0; n < images; n++)
        {
            for (var y = 0; y < outH; y++)
            {
                // The input row under kernel row ky, checked whole; the taps x..x+4 lie within it for every x < outW.
                var row = input.Slice((((first + n) * s.InChannels + c) * h + y + ky) * w, w);
                ref var inRef = ref MemoryMarshal.GetReference(row);
                ref var gRow = ref Unsafe.Add(ref gradRef, (n * outH + y) * outW * OutChannels);
                for (var x = 0; x < outW; x++)
                {
                    var g0 = Vector256.LoadUnsafe(ref gRow, (nuint)(x * OutChannels));
                    var g1 = Vector256.LoadUnsafe(ref gRow, (nuint)(x * OutChannels + 8));
                    var i0 = Vector256.Create(Unsafe.Add(ref inRef, x));
                    var i1 = Vector256.Create(Unsafe.Add(ref inRef, x + 1));
                    var i2 = Vector256.Create(Unsafe.Add(ref inRef, x + 2));
                    var i3 = Vector256.Create(Unsafe.Add(ref inRef, x + 3));
                    var i4 = Vector256.Create(Unsafe.Add(ref inRef, x + 4));
                    a00 = Vector256.FusedMultiplyAdd(g0, i0, a00); a01 = Vector256.FusedMultiplyAdd(g0, i1, a01);
                    a02 = Vector256.FusedMultiplyAdd(g0, i2, a02); a03 = Vector256.FusedMultiplyAdd(g0, i3, a03);
                    a04 = Vector256.FusedMultiplyAdd(g0, i4, a04);
                    a10 = Vector256.FusedMultiplyAdd(g1, i0, a10); a11 = Vector256.FusedMultiplyAdd(g1, i1, a11);
                    a12 = Vector256.FusedMultiplyAdd(g1, i2, a12); a13 = Vector256.FusedMultiplyAdd(g1, i3, a13);
                    a14 = Vector256.FusedMultiplyAdd(g1, i4, a14);
                }
            }
        }
        ReadOnlySpan<Vector256<float>> low = [a00, a01, a02, a03, a04], high = [a10, a11, a12, a13, a14];
        for (var kx = 0; kx < Kernel; kx++)
        {
            for (var o = 0; o < 8; o++)
            {
                weightSums[((o * s.InChannels + c) * Kernel + ky) * Kernel + kx] += low[kx][o];
                weightSums[(((o + 8) * s.InChannels + c) * Kernel + ky) * Kernel + kx] += high[kx][o];
            }
        }
    }
}
