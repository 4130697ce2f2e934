using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The loops behind <see cref="InputConv2d"/>: a valid (unpadded), stride-1 2-D convolution over contiguous
/// float32 tensors, forward and the gradients of its weight and bias.
/// </summary>
/// <remarks>
/// <para>
/// Why loops: LeNet's first convolution has so few channels (1 → 6) that oneDNN, built for wide layers, pads them to a
/// block of 16 and reorders every output and output gradient between that layout and libtorch's; here a row of output
/// is a handful of multiply-adds of shifted input rows, which vectorizes along the row. Eight outputs of a row are one
/// vector; a row whose width is not a multiple of eight ends with a block that overlaps the one before it (the forward
/// pass writes the same values again; the gradient pass masks out the lanes already counted). Each input vector loaded
/// serves three output channels. The loops take a range of images, so that callers can share a batch among threads.
/// </para>
/// <para>
/// Sums are taken in another order than libtorch's, so results agree with it to float rounding, not to the bit.
/// </para>
/// </remarks>
internal static class Conv2dKernel
{
    const int Lanes = 8;

    /// <summary>Whether this machine runs the 256-bit vector code in hardware (x64 with AVX2).</summary>
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    /// <summary>The sizes of one convolution: batch, channels in and out, input side lengths, kernel side.</summary>
    public readonly record struct Shape(int Batch, int InChannels, int OutChannels, int Height, int Width, int Kernel)
    {
        public int OutHeight => Height - Kernel + 1;
        public int OutWidth => Width - Kernel + 1;
        public int InputLength => Batch * InChannels * Height * Width;
        public int OutputLength => Batch * OutChannels * OutHeight * OutWidth;
        public int WeightLength => OutChannels * InChannels * Kernel * Kernel;

        /// <summary>Whether the kernel's blocks fit: an output row at least one vector wide.</summary>
        public bool Fits => Kernel >= 1 && OutHeight >= 1 && OutWidth >= Lanes;
    }

    /// <summary><c>output = conv2d(input, weight) + bias</c> for the images <paramref name="first"/> to <paramref name="end"/> (exclusive).</summary>
    public static void Forward(Shape s, ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output, int first, int end)
    {
        Check(s, input.Length, output.Length, weight.Length, bias.Length);
        int k = s.Kernel, outH = s.OutHeight, outW = s.OutWidth, h = s.Height, w = s.Width;
        var starts = BlockStarts(outW);
        ref var inRef = ref MemoryMarshal.GetReference(input);
        ref var outRef = ref MemoryMarshal.GetReference(output);
        ref var wRef = ref MemoryMarshal.GetReference(weight);
        for (var n = first; n < end; n++)
        {
            var o = 0;
            // Three output channels at a time, four blocks each: twelve sums in registers, each input vector loaded once
            // for three channels' multiply-adds.
            if (starts.Length == 4)
            {
                for (; o + 3 <= s.OutChannels; o += 3)
                    ForwardThreeChannels(s, ref inRef, ref wRef, bias, ref outRef, starts, n, o);
            }
            for (; o < s.OutChannels; o++)
            {
                var plane = (n * s.OutChannels + o) * outH * outW;
                var o0 = Vector256.Create(bias.IsEmpty ? 0f : bias[o]);
                var taps = o * s.InChannels * k * k;
                for (var y = 0; y < outH; y++)
                {
                    // Four blocks of the row at a time, each tap's weight broadcast once for all four; a row of fewer
                    // blocks repeats its last, which writes the same values again.
                    for (var b = 0; b < starts.Length; b += 4)
                    {
                        int x0 = starts[b], x1 = starts[Math.Min(b + 1, starts.Length - 1)],
                            x2 = starts[Math.Min(b + 2, starts.Length - 1)], x3 = starts[Math.Min(b + 3, starts.Length - 1)];
                        Vector256<float> a0 = o0, a1 = o0, a2 = o0, a3 = o0;
                        for (var c = 0; c < s.InChannels; c++)
                        {
                            for (var ky = 0; ky < k; ky++)
                            {
                                ref var row = ref Unsafe.Add(ref inRef, ((n * s.InChannels + c) * h + y + ky) * w);
                                ref var tap = ref Unsafe.Add(ref wRef, taps + (c * k + ky) * k);
                                for (var kx = 0; kx < k; kx++)
                                {
                                    var wv = Vector256.Create(Unsafe.Add(ref tap, kx));
                                    a0 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref row, (nuint)(x0 + kx)), a0);
                                    a1 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref row, (nuint)(x1 + kx)), a1);
                                    a2 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref row, (nuint)(x2 + kx)), a2);
                                    a3 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref row, (nuint)(x3 + kx)), a3);
                                }
                            }
                        }
                        var at = plane + y * outW;
                        a0.StoreUnsafe(ref outRef, (nuint)(at + x0));
                        a1.StoreUnsafe(ref outRef, (nuint)(at + x1));
                        a2.StoreUnsafe(ref outRef, (nuint)(at + x2));
                        a3.StoreUnsafe(ref outRef, (nuint)(at + x3));
                    }
                }
            }
        }
    }

    static void ForwardThreeChannels(Shape s, ref float inRef, ref float wRef, ReadOnlySpan<float> bias, ref float outRef, int[] starts, int n, int o)
    {
        int k = s.Kernel, outH = s.OutHeight, outW = s.OutWidth, h = s.Height, w = s.Width, taps = s.InChannels * k * k;
        int x0 = starts[0], x1 = starts[1], x2 = starts[2], x3 = starts[3];
        var bias0 = Vector256.Create(bias.IsEmpty ? 0f : bias[o]);
        var bias1 = Vector256.Create(bias.IsEmpty ? 0f : bias[o + 1]);
        var bias2 = Vector256.Create(bias.IsEmpty ? 0f : bias[o + 2]);
        ref var w0 = ref Unsafe.Add(ref wRef, o * taps);
        ref var w1 = ref Unsafe.Add(ref w0, taps);
        ref var w2 = ref Unsafe.Add(ref w1, taps);
        for (var y = 0; y < outH; y++)
        {
            Vector256<float> a00 = bias0, a01 = bias0, a02 = bias0, a03 = bias0;
            Vector256<float> a10 = bias1, a11 = bias1, a12 = bias1, a13 = bias1;
            Vector256<float> a20 = bias2, a21 = bias2, a22 = bias2, a23 = bias2;
            for (var c = 0; c < s.InChannels; c++)
            {
                for (var ky = 0; ky < k; ky++)
                {
                    ref var row = ref Unsafe.Add(ref inRef, ((n * s.InChannels + c) * h + y + ky) * w);
                    var tap = (c * k + ky) * k;
                    for (var kx = 0; kx < k; kx++)
                    {
                        var i0 = Vector256.LoadUnsafe(ref row, (nuint)(x0 + kx));
                        var i1 = Vector256.LoadUnsafe(ref row, (nuint)(x1 + kx));
                        var i2 = Vector256.LoadUnsafe(ref row, (nuint)(x2 + kx));
                        var i3 = Vector256.LoadUnsafe(ref row, (nuint)(x3 + kx));
                        var v = Vector256.Create(Unsafe.Add(ref w0, tap + kx));
                        a00 = Vector256.FusedMultiplyAdd(v, i0, a00); a01 = Vector256.FusedMultiplyAdd(v, i1, a01);
                        a02 = Vector256.FusedMultiplyAdd(v, i2, a02); a03 = Vector256.FusedMultiplyAdd(v, i3, a03);
                        v = Vector256.Create(Unsafe.Add(ref w1, tap + kx));
                        a10 = Vector256.FusedMultiplyAdd(v, i0, a10); a11 = Vector256.FusedMultiplyAdd(v, i1, a11);
                        a12 = Vector256.FusedMultiplyAdd(v, i2, a12); a13 = Vector256.FusedMultiplyAdd(v, i3, a13);
                        v = Vector256.Create(Unsafe.Add(ref w2, tap + kx));
                        a20 = Vector256.FusedMultiplyAdd(v, i0, a20); a21 = Vector256.FusedMultiplyAdd(v, i1, a21);
                        a22 = Vector256.FusedMultiplyAdd(v, i2, a22); a23 = Vector256.FusedMultiplyAdd(v, i3, a23);
                    }
                }
            }
            // The last block may overlap the one before it: it is stored last and writes the same values again.
            ref var out0 = ref Unsafe.Add(ref outRef, ((n * s.OutChannels + o) * outH + y) * outW);
            ref var out1 = ref Unsafe.Add(ref out0, outH * outW);
            ref var out2 = ref Unsafe.Add(ref out1, outH * outW);
            a00.StoreUnsafe(ref out0, (nuint)x0); a01.StoreUnsafe(ref out0, (nuint)x1); a02.StoreUnsafe(ref out0, (nuint)x2); a03.StoreUnsafe(ref out0, (nuint)x3);
            a10.StoreUnsafe(ref out1, (nuint)x0); a11.StoreUnsafe(ref out1, (nuint)x1); a12.StoreUnsafe(ref out1, (nuint)x2); a13.StoreUnsafe(ref out1, (nuint)x3);
            a20.StoreUnsafe(ref out2, (nuint)x0); a21.StoreUnsafe(ref out2, (nuint)x1); a22.StoreUnsafe(ref out2, (nuint)x2); a23.StoreUnsafe(ref out2, (nuint)x3);
        }
    }

    /// <summary>Where a row's blocks start: every eight outputs, the last one ending at the row's end.</summary>
    static int[] BlockStarts(int outW)
    {
        var count = (outW + Lanes - 1) / Lanes;
        var starts = new int[count];
        for (var i = 0; i < count; i++) starts[i] = Math.Min(i * Lanes, outW - Lanes);
        return starts;
    }

    /// <summary>
    /// The weight's and the bias's gradients over the images <paramref name="first"/> to <paramref name="end"/>
    /// (exclusive), added as lane sums into <paramref name="weightSums"/> (<see cref="Shape.WeightLength"/> vectors) and
    /// <paramref name="biasSums"/> (one vector per output channel); <see cref="Reduce"/> turns them into gradients.
    /// </summary>
    public static void AccumulateGradients(Shape s, ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput,
        Span<Vector256<float>> weightSums, Span<Vector256<float>> biasSums, int first, int end)
    {
        Check(s, input.Length, gradOutput.Length, weightSums.Length, biasSums.Length);
        int k = s.Kernel, outH = s.OutHeight, outW = s.OutWidth, h = s.Height, w = s.Width;
        var starts = BlockStarts(outW);
        // The last block of a row may overlap the one before it: its first lanes were counted there.
        var overlap = starts.Length * Lanes - outW;
        var tailMask = Vector256.GreaterThanOrEqual(Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7), Vector256.Create(overlap)).AsSingle();
        ref var inRef = ref MemoryMarshal.GetReference(input);
        ref var gradRef = ref MemoryMarshal.GetReference(gradOutput);
        ref var sumsRef = ref MemoryMarshal.GetReference(weightSums);
        for (var n = first; n < end; n++)
        {
            for (var o = 0; o < s.OutChannels; o++)
            {
                ref var plane = ref Unsafe.Add(ref gradRef, (n * s.OutChannels + o) * outH * outW);
                var biasSum = biasSums[o];
                for (var y = 0; y < outH; y++)
                {
                    for (var b = 0; b < starts.Length; b++)
                    {
                        var g = Vector256.LoadUnsafe(ref plane, (nuint)(y * outW + starts[b]));
                        biasSum += b == starts.Length - 1 ? g & tailMask : g;
                    }
                }
                biasSums[o] = biasSum;
            }
            var o0 = 0;
            // LeNet's 5x5 kernels, three output channels at a time: fifteen sums held in registers, each input vector
            // loaded once for three channels' multiply-adds.
            if (k == 5)
            {
                for (; o0 + 3 <= s.OutChannels; o0 += 3)
                {
                    for (var c = 0; c < s.InChannels; c++)
                        AccumulateThreeChannels5x5(s, ref inRef, ref gradRef, ref sumsRef, starts, tailMask, n, c, o0);
                }
            }
            for (var o = o0; o < s.OutChannels; o++)
            {
                ref var plane = ref Unsafe.Add(ref gradRef, (n * s.OutChannels + o) * outH * outW);
                for (var c = 0; c < s.InChannels; c++)
                {
                    for (var ky = 0; ky < k; ky++)
                    {
                        var tap = ((o * s.InChannels + c) * k + ky) * k;
                        for (var kx = 0; kx < k; kx++)
                        {
                            var sum = weightSums[tap + kx];
                            for (var y = 0; y < outH; y++)
                            {
                                ref var row = ref Unsafe.Add(ref inRef, ((n * s.InChannels + c) * h + y + ky) * w + kx);
                                for (var b = 0; b < starts.Length; b++)
                                {
                                    var g = Vector256.LoadUnsafe(ref plane, (nuint)(y * outW + starts[b]));
                                    if (b == starts.Length - 1) g &= tailMask;
                                    sum = Vector256.FusedMultiplyAdd(g, Vector256.LoadUnsafe(ref row, (nuint)starts[b]), sum);
                                }
                            }
                            weightSums[tap + kx] = sum;
                        }
                    }
                }
            }
        }
    }

    static void AccumulateThreeChannels5x5(Shape s, ref float inRef, ref float gradRef, ref Vector256<float> sumsRef,
        int[] starts, Vector256<float> tailMask, int n, int c, int o0)
    {
        int outH = s.OutHeight, outW = s.OutWidth, h = s.Height, w = s.Width, planeSize = outH * outW;
        ref var g0Ref = ref Unsafe.Add(ref gradRef, (n * s.OutChannels + o0) * planeSize);
        ref var g1Ref = ref Unsafe.Add(ref g0Ref, planeSize);
        ref var g2Ref = ref Unsafe.Add(ref g1Ref, planeSize);
        for (var ky = 0; ky < 5; ky++)
        {
            ref var s0 = ref Unsafe.Add(ref sumsRef, ((o0 * s.InChannels + c) * 5 + ky) * 5);
            ref var s1 = ref Unsafe.Add(ref sumsRef, (((o0 + 1) * s.InChannels + c) * 5 + ky) * 5);
            ref var s2 = ref Unsafe.Add(ref sumsRef, (((o0 + 2) * s.InChannels + c) * 5 + ky) * 5);
            Vector256<float> a00 = s0, a01 = Unsafe.Add(ref s0, 1), a02 = Unsafe.Add(ref s0, 2), a03 = Unsafe.Add(ref s0, 3), a04 = Unsafe.Add(ref s0, 4);
            Vector256<float> a10 = s1, a11 = Unsafe.Add(ref s1, 1), a12 = Unsafe.Add(ref s1, 2), a13 = Unsafe.Add(ref s1, 3), a14 = Unsafe.Add(ref s1, 4);
            Vector256<float> a20 = s2, a21 = Unsafe.Add(ref s2, 1), a22 = Unsafe.Add(ref s2, 2), a23 = Unsafe.Add(ref s2, 3), a24 = Unsafe.Add(ref s2, 4);
            for (var y = 0; y < outH; y++)
            {
                ref var row = ref Unsafe.Add(ref inRef, ((n * s.InChannels + c) * h + y + ky) * w);
                for (var b = 0; b < starts.Length; b++)
                {
                    var x = starts[b];
                    var at = (nuint)(y * outW + x);
                    Vector256<float> g0 = Vector256.LoadUnsafe(ref g0Ref, at), g1 = Vector256.LoadUnsafe(ref g1Ref, at), g2 = Vector256.LoadUnsafe(ref g2Ref, at);
                    if (b == starts.Length - 1) { g0 &= tailMask; g1 &= tailMask; g2 &= tailMask; }
                    var i0 = Vector256.LoadUnsafe(ref row, (nuint)x);
                    var i1 = Vector256.LoadUnsafe(ref row, (nuint)(x + 1));
                    var i2 = Vector256.LoadUnsafe(ref row, (nuint)(x + 2));
                    var i3 = Vector256.LoadUnsafe(ref row, (nuint)(x + 3));
                    var i4 = Vector256.LoadUnsafe(ref row, (nuint)(x + 4));
                    a00 = Vector256.FusedMultiplyAdd(g0, i0, a00); a01 = Vector256.FusedMultiplyAdd(g0, i1, a01); a02 = Vector256.FusedMultiplyAdd(g0, i2, a02);
                    a03 = Vector256.FusedMultiplyAdd(g0, i3, a03); a04 = Vector256.FusedMultiplyAdd(g0, i4, a04);
                    a10 = Vector256.FusedMultiplyAdd(g1, i0, a10); a11 = Vector256.FusedMultiplyAdd(g1, i1, a11); a12 = Vector256.FusedMultiplyAdd(g1, i2, a12);
                    a13 = Vector256.FusedMultiplyAdd(g1, i3, a13); a14 = Vector256.FusedMultiplyAdd(g1, i4, a14);
                    a20 = Vector256.FusedMultiplyAdd(g2, i0, a20); a21 = Vector256.FusedMultiplyAdd(g2, i1, a21); a22 = Vector256.FusedMultiplyAdd(g2, i2, a22);
                    a23 = Vector256.FusedMultiplyAdd(g2, i3, a23); a24 = Vector256.FusedMultiplyAdd(g2, i4, a24);
                }
            }
            s0 = a00; Unsafe.Add(ref s0, 1) = a01; Unsafe.Add(ref s0, 2) = a02; Unsafe.Add(ref s0, 3) = a03; Unsafe.Add(ref s0, 4) = a04;
            s1 = a10; Unsafe.Add(ref s1, 1) = a11; Unsafe.Add(ref s1, 2) = a12; Unsafe.Add(ref s1, 3) = a13; Unsafe.Add(ref s1, 4) = a14;
            s2 = a20; Unsafe.Add(ref s2, 1) = a21; Unsafe.Add(ref s2, 2) = a22; Unsafe.Add(ref s2, 3) = a23; Unsafe.Add(ref s2, 4) = a24;
        }
    }

    /// <summary>
    /// The input's gradient for the images <paramref name="first"/> to <paramref name="end"/> (exclusive): each input
    /// element gets the output gradients of every window it lies in, times the weight it met there.
    /// </summary>
    /// <remarks>Computed as a full correlation over the output gradient zero-padded by <c>kernel - 1</c> on each side of a row,
    /// one image at a time, so that each input row is blocks of eight sums along it, as in <see cref="Forward"/>.</remarks>
    public static void InputGradient(Shape s, ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> weight, Span<float> gradInput, int first, int end)
    {
        Check(s, gradInput.Length, gradOutput.Length, weight.Length, 0);
        if (s.Width < Lanes)
            throw new ArgumentException($"Expected an input row of at least {Lanes} elements; found {s.Width}.");
        int k = s.Kernel, outH = s.OutHeight, outW = s.OutWidth, h = s.Height, w = s.Width;
        int paddedW = outW + 2 * (k - 1), paddedPlane = outH * paddedW;
        var starts = BlockStarts(w);
        var padded = new float[s.OutChannels * paddedPlane];
        ref var paddedRef = ref MemoryMarshal.GetArrayDataReference(padded);
        ref var wRef = ref MemoryMarshal.GetReference(weight);
        for (var n = first; n < end; n++)
        {
            for (var o = 0; o < s.OutChannels; o++)
            {
                for (var y = 0; y < outH; y++)
                    gradOutput.Slice(((n * s.OutChannels + o) * outH + y) * outW, outW).CopyTo(padded.AsSpan(o * paddedPlane + y * paddedW + k - 1, outW));
            }
            for (var c = 0; c < s.InChannels; c++)
            {
                for (var y = 0; y < h; y++)
                {
                    // Kernel rows whose window reaches input row y from a real output row.
                    int kyFirst = Math.Max(0, y - outH + 1), kyEnd = Math.Min(k, y + 1);
                    for (var b = 0; b < starts.Length; b += 4)
                    {
                        int x0 = starts[b], x1 = starts[Math.Min(b + 1, starts.Length - 1)],
                            x2 = starts[Math.Min(b + 2, starts.Length - 1)], x3 = starts[Math.Min(b + 3, starts.Length - 1)];
                        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                        for (var o = 0; o < s.OutChannels; o++)
                        {
                            for (var ky = kyFirst; ky < kyEnd; ky++)
                            {
                                // Input x takes output x - kx, which sits at x - kx + k - 1 in the padded row.
                                ref var row = ref Unsafe.Add(ref paddedRef, o * paddedPlane + (y - ky) * paddedW + k - 1);
                                ref var tap = ref Unsafe.Add(ref wRef, ((o * s.InChannels + c) * k + ky) * k);
                                for (var kx = 0; kx < k; kx++)
                                {
                                    var wv = Vector256.Create(Unsafe.Add(ref tap, kx));
                                    a0 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref Unsafe.Subtract(ref row, kx), (nuint)x0), a0);
                                    a1 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref Unsafe.Subtract(ref row, kx), (nuint)x1), a1);
                                    a2 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref Unsafe.Subtract(ref row, kx), (nuint)x2), a2);
                                    a3 = Vector256.FusedMultiplyAdd(wv, Vector256.LoadUnsafe(ref Unsafe.Subtract(ref row, kx), (nuint)x3), a3);
                                }
                            }
                        }
                        var target = gradInput.Slice(((n * s.InChannels + c) * h + y) * w, w);
                        a0.CopyTo(target[x0..]);
                        a1.CopyTo(target[x1..]);
                        a2.CopyTo(target[x2..]);
                        a3.CopyTo(target[x3..]);
                    }
                }
            }
        }
    }

    /// <summary>Sums the lanes of each accumulated vector into <paramref name="gradients"/>.</summary>
    public static void Reduce(ReadOnlySpan<Vector256<float>> sums, Span<float> gradients)
    {
        for (var i = 0; i < sums.Length; i++) gradients[i] = Vector256.Sum(sums[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Check(Shape s, int inputLength, int outputLength, int weightLength, int biasLength)
    {
        if (!s.Fits)
            throw new ArgumentException($"Expected an output row of at least {Lanes} elements; found {s.OutHeight}x{s.OutWidth}.");
        if (inputLength != s.InputLength || outputLength != s.OutputLength || weightLength != s.WeightLength
            || (biasLength != 0 && biasLength != s.OutChannels))
            throw new ArgumentException(
                $"Expected {s.InputLength} input, {s.OutputLength} output, {s.WeightLength} weight and 0 or {s.OutChannels} bias elements; " +
                $"found {inputLength}, {outputLength}, {weightLength} and {biasLength}.");
    }
}
