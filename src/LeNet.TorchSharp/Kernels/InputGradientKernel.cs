using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The input gradient of a stride-1, unpadded convolution with 5x5 kernels on inputs at most 16 wide (LeNet's conv2: 16
/// output channels back onto 6 channels of 14x14), one input row in one 512-bit vector.
/// </summary>
/// <remarks>
/// <para>
/// Why: libtorch computes it as <c>conv_transpose2d</c>, a matrix multiply and a col2im pass: 0.57–0.63 ms of a 4.1 ms
/// LeNet step on 2 cores of an AMD EPYC, the largest piece of a step left to libtorch (bench/history.md).
/// </para>
/// <para>
/// <c>gradInput[n, c, y, x] = Σ_o Σ_ky Σ_kx gradOutput[n, o, y - ky, x - kx] · weight[o, c, ky, kx]</c>. Each image's
/// output gradient is first copied into rows zero-padded by four on every side, so that for a kernel tap (ky, kx) the
/// sixteen terms of an input row are one unaligned load, and the edges need no tests. Then, for two input rows and six
/// input channels at a time, twelve vectors of sums stay in registers while every output channel and tap adds its
/// gradient row times the six channels' weights. Sums are taken in another order than libtorch's, so results agree with
/// it to float rounding, not to the bit.
/// </para>
/// </remarks>
internal static class InputGradientKernel
{
    const int Lanes = 16;

    /// <summary>The kernel side this kernel is written for.</summary>
    public const int Kernel = 5;

    /// <summary>The widest input row: one vector.</summary>
    public const int MaxWidth = Lanes;

    /// <summary>A padded gradient row: four zeros, the row, and zeros to the end of the last tap's vector.</summary>
    const int PaddedWidth = MaxWidth + Kernel - 1;

    /// <summary>Input channels whose sums share each loaded gradient row.</summary>
    const int ChannelBlock = 6;

    /// <summary>Whether this machine runs the 512-bit vector code in hardware (x64 with AVX-512 that .NET uses).</summary>
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;

    /// <summary>Whether the kernel is written for <paramref name="s"/>: 5x5 kernels, inputs 5 to 16 wide and at least 5 high.</summary>
    public static bool Fits(Conv2dKernel.Shape s) => s.Kernel == Kernel && s.Width is >= Kernel and <= MaxWidth && s.Height >= Kernel;

    /// <summary>
    /// The weight (laid out as libtorch's, Out x In x 5 x 5) as <see cref="Compute"/> reads it: per block of six input
    /// channels, output channel and tap, the six channels' weights side by side; a partial last block is padded with
    /// zero weights, whose sums are not stored. Made once per backward, shared by every chunk of the batch.
    /// </summary>
    public static float[] Taps(Conv2dKernel.Shape s, ReadOnlySpan<float> weight)
    {
        if (weight.Length != s.WeightLength)
            throw new ArgumentException($"Expected {s.WeightLength} weight elements; found {weight.Length}.", nameof(weight));
        var taps = new float[TapsLength(s)];
        for (var c = 0; c < s.InChannels; c++)
        for (var o = 0; o < s.OutChannels; o++)
        for (var tap = 0; tap < Kernel * Kernel; tap++)
            taps[(((c / ChannelBlock) * s.OutChannels + o) * Kernel * Kernel + tap) * ChannelBlock + c % ChannelBlock] =
                weight[(o * s.InChannels + c) * Kernel * Kernel + tap];
        return taps;
    }

    static int Blocks(Conv2dKernel.Shape s) => (s.InChannels + ChannelBlock - 1) / ChannelBlock;

    static int TapsLength(Conv2dKernel.Shape s) => Blocks(s) * s.OutChannels * Kernel * Kernel * ChannelBlock;

    /// <summary>
    /// Writes the input's gradient of the images <paramref name="first"/> to <paramref name="end"/> (exclusive) into
    /// <paramref name="gradInput"/> (laid out as the input), from the output's gradient and the weight as <see cref="Taps"/>.
    /// </summary>
    public static void Compute(Conv2dKernel.Shape s, ReadOnlySpan<float> gradOutput, float[] taps, Span<float> gradInput,
        int first, int end)
    {
        if (!Fits(s))
            throw new ArgumentException($"Expected {Kernel}x{Kernel} kernels on inputs {Kernel} to {MaxWidth} wide and at least {Kernel} high; found {s.Kernel}x{s.Kernel} on {s.Height}x{s.Width}.");
        if (gradOutput.Length != s.OutputLength || taps.Length != TapsLength(s) || gradInput.Length != s.InputLength)
            throw new ArgumentException(
                $"Expected {s.OutputLength} output gradient, {TapsLength(s)} tap and {s.InputLength} input gradient elements; " +
                $"found {gradOutput.Length}, {taps.Length} and {gradInput.Length}.");
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(end, s.Batch);
        if (end <= first) return;

        int outH = s.OutHeight, outW = s.OutWidth, paddedRows = outH + 2 * (Kernel - 1);
        var planeLength = paddedRows * PaddedWidth;
        var padded = ArrayPool<float>.Shared.Rent(s.OutChannels * planeLength);
        var blocks = Blocks(s);
        try
        {
            Array.Clear(padded, 0, s.OutChannels * planeLength);
            Span<float> rows = stackalloc float[2 * ChannelBlock * Lanes];
            var valid = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(outW)).AsSingle();
            for (var n = first; n < end; n++)
            {
                for (var o = 0; o < s.OutChannels; o++)
                {
                    var plane = gradOutput.Slice((n * s.OutChannels + o) * outH * outW, outH * outW);
                    var to = padded.AsSpan(o * planeLength + (Kernel - 1) * PaddedWidth + Kernel - 1);
                    for (var y = 0; y < outH; y++)
                    {
                        // A whole vector where the plane has sixteen values from the row on, the lanes past the row zeroed
                        // (they land on the row's zero padding); a copy of the row at the plane's end.
                        if (y * outW + Lanes <= plane.Length)
                            (Vector512.Create(plane.Slice(y * outW, Lanes)) & valid).CopyTo(to.Slice(y * PaddedWidth));
                        else
                            plane.Slice(y * outW, outW).CopyTo(to.Slice(y * PaddedWidth));
                    }
                }
                for (var block = 0; block < blocks; block++)
                {
                    var channels = Math.Min(ChannelBlock, s.InChannels - block * ChannelBlock);
                    for (var y = 0; y < s.Height; y += 2)
                    {
                        // Kernel rows that reach a gradient row from input row y or y + 1; the others read zero rows.
                        int fromKy = Math.Max(0, y - outH + 1), toKy = Math.Min(Kernel - 1, y + 1);
                        RowPair(ref MemoryMarshal.GetArrayDataReference(padded), planeLength, s.OutChannels,
                            ref taps[block * s.OutChannels * Kernel * Kernel * ChannelBlock], y, fromKy, toKy, rows);
                        for (var j = 0; j < channels; j++)
                        {
                            var plane = gradInput.Slice((n * s.InChannels + block * ChannelBlock + j) * s.Height * s.Width, s.Height * s.Width);
                            Store(rows.Slice(j * Lanes, Lanes), plane, y, s.Width);
                            if (y + 1 < s.Height) Store(rows.Slice((ChannelBlock + j) * Lanes, Lanes), plane, y + 1, s.Width);
                        }
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
        }
    }

    // Row y of a channel's plane: a whole vector where the plane has sixteen values from the row on (the lanes past the
    // row land on the rows below, which are stored after this one), else the row alone.
    static void Store(ReadOnlySpan<float> row, Span<float> plane, int y, int width)
    {
        if (y * width + Lanes <= plane.Length)
            Vector512.Create(row).CopyTo(plane.Slice(y * width));
        else
            row[..width].CopyTo(plane.Slice(y * width));
    }

    // Input rows y and y + 1 of six channels: twelve vectors of sums over every output channel and tap, in registers until
    // the end, then stored to rows (row y's six channels, then row y + 1's). Row y + 1 past the input reads zero rows.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void RowPair(ref float padded, int planeLength, int outChannels, ref float taps, int y, int fromKy, int toKy, Span<float> rows)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default;
        for (var o = 0; o < outChannels; o++)
        {
            ref var plane = ref Unsafe.Add(ref padded, o * planeLength);
            for (var ky = fromKy; ky <= toKy; ky++)
            {
                // Padded row y - ky + 4 holds gradient row y - ky; lane x of the load at column 4 - kx is its column x - kx.
                ref var upper = ref Unsafe.Add(ref plane, (y - ky + Kernel - 1) * PaddedWidth + Kernel - 1);
                ref var w = ref Unsafe.Add(ref taps, (o * Kernel + ky) * Kernel * ChannelBlock);
                for (var kx = 0; kx < Kernel; kx++)
                {
                    var g0 = Vector512.LoadUnsafe(ref Unsafe.Subtract(ref upper, kx));
                    var g1 = Vector512.LoadUnsafe(ref Unsafe.Add(ref upper, PaddedWidth - kx));
                    ref var wk = ref Unsafe.Add(ref w, kx * ChannelBlock);
                    var w0 = Vector512.Create(wk);
                    var w1 = Vector512.Create(Unsafe.Add(ref wk, 1));
                    var w2 = Vector512.Create(Unsafe.Add(ref wk, 2));
                    a0 = Vector512.FusedMultiplyAdd(g0, w0, a0); b0 = Vector512.FusedMultiplyAdd(g1, w0, b0);
                    a1 = Vector512.FusedMultiplyAdd(g0, w1, a1); b1 = Vector512.FusedMultiplyAdd(g1, w1, b1);
                    a2 = Vector512.FusedMultiplyAdd(g0, w2, a2); b2 = Vector512.FusedMultiplyAdd(g1, w2, b2);
                    var w3 = Vector512.Create(Unsafe.Add(ref wk, 3));
                    var w4 = Vector512.Create(Unsafe.Add(ref wk, 4));
                    var w5 = Vector512.Create(Unsafe.Add(ref wk, 5));
                    a3 = Vector512.FusedMultiplyAdd(g0, w3, a3); b3 = Vector512.FusedMultiplyAdd(g1, w3, b3);
                    a4 = Vector512.FusedMultiplyAdd(g0, w4, a4); b4 = Vector512.FusedMultiplyAdd(g1, w4, b4);
                    a5 = Vector512.FusedMultiplyAdd(g0, w5, a5); b5 = Vector512.FusedMultiplyAdd(g1, w5, b5);
                }
            }
        }
        ref var r = ref MemoryMarshal.GetReference(rows);
        a0.StoreUnsafe(ref r, 0 * Lanes); a1.StoreUnsafe(ref r, 1 * Lanes); a2.StoreUnsafe(ref r, 2 * Lanes);
        a3.StoreUnsafe(ref r, 3 * Lanes); a4.StoreUnsafe(ref r, 4 * Lanes); a5.StoreUnsafe(ref r, 5 * Lanes);
        b0.StoreUnsafe(ref r, 6 * Lanes); b1.StoreUnsafe(ref r, 7 * Lanes); b2.StoreUnsafe(ref r, 8 * Lanes);
        b3.StoreUnsafe(ref r, 9 * Lanes); b4.StoreUnsafe(ref r, 10 * Lanes); b5.StoreUnsafe(ref r, 11 * Lanes);
    }
}
