using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The three matrix products of a fully connected layer (forward, weight gradient, input gradient) in 512-bit vectors.
/// </summary>
/// <remarks>
/// <para>
/// Why: libtorch multiplies matrices with MKL, and MKL runs 256-bit code on AMD CPUs; on the AMD EPYC measured (Zen 5,
/// two 512-bit FMA units a core) a 512-bit loop does twice the 256-bit one's arithmetic (220 against 110 GFLOP/s a core),
/// and the MLP's step is mostly its first layer's two products (bench/history.md, 2026-12-01 night).
/// </para>
/// <para>
/// Layouts are the layer's own, row-major and contiguous: input N x In, weight Out x In, output N x Out. The forward
/// product takes dot products along In (both operands are contiguous there, nothing is repacked); the two gradients add
/// outer products, broadcasting one operand's elements against 16-wide rows of the other. Each call computes a range of
/// output rows or columns that no other range touches, so a split over threads changes no sum. Sums are taken in another
/// order than MKL's: results agree with libtorch's to float rounding, not to the bit.
/// </para>
/// </remarks>
internal static class LinearKernel
{
    const int Lanes = 16;

    /// <summary>Whether this machine runs 512-bit vector code in hardware and .NET uses it (x64 with AVX-512).</summary>
    public static bool IsAccelerated => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// <c>output[i, j] = bias[j] + Σ_p input[i, p] · weight[j, p]</c> for the rows <paramref name="first"/> to
    /// <paramref name="end"/> (exclusive) of the N x <paramref name="outFeatures"/> output: <c>F.linear</c>.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, Span<float> output,
        int inFeatures, int outFeatures, int first, int end)
    {
        Check(input.Length, end, inFeatures, "input");
        Check(weight.Length, outFeatures, inFeatures, "weight");
        Check(output.Length, end, outFeatures, "output");
        if (!bias.IsEmpty && bias.Length != outFeatures)
            throw new ArgumentException($"Expected {outFeatures} bias elements; found {bias.Length}.", nameof(bias));
        ref var x = ref MemoryMarshal.GetReference(input);
        ref var w = ref MemoryMarshal.GetReference(weight);
        ref var y = ref MemoryMarshal.GetReference(output);
        var i = first;
        for (; i + 4 <= end; i += 4)
        {
            var j = 0;
            for (; j + 4 <= outFeatures; j += 4) Dot4x4(ref x, ref w, ref y, bias, i, j, inFeatures, outFeatures);
            for (; j < outFeatures; j++)
            {
                for (var r = 0; r < 4; r++) Unsafe.Add(ref y, (i + r) * outFeatures + j) = Bias(bias, j) + Dot(ref x, ref w, i + r, j, inFeatures);
            }
        }
        for (; i < end; i++)
        {
            for (var j = 0; j < outFeatures; j++) Unsafe.Add(ref y, i * outFeatures + j) = Bias(bias, j) + Dot(ref x, ref w, i, j, inFeatures);
        }
    }

    /// <summary>
    /// <c>gradWeight[j, p] = Σ_i gradOutput[i, j] · input[i, p]</c> (<c>gradOutput.T @ input</c>) for the weight's columns
    /// <paramref name="first"/> to <paramref name="end"/> (exclusive), over a batch of <paramref name="batch"/>.
    /// </summary>
    public static void WeightGradient(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> input, Span<float> gradWeight,
        int batch, int inFeatures, int outFeatures, int first, int end)
    {
        Check(gradOutput.Length, batch, outFeatures, "gradOutput");
        Check(input.Length, batch, inFeatures, "input");
        Check(gradWeight.Length, outFeatures, inFeatures, "gradWeight");
        // Row j of the result broadcasts gradOutput[i, j], at i * outFeatures + j, against row i of the input.
        OuterProducts(gradOutput, rowStep: 1, sumStep: outFeatures, input, gradWeight, outFeatures, inFeatures, batch, first, end);
    }

    /// <summary>
    /// <c>gradInput[i, p] = Σ_j gradOutput[i, j] · weight[j, p]</c> (<c>gradOutput @ weight</c>) for the input's columns
    /// <paramref name="first"/> to <paramref name="end"/> (exclusive), over a batch of <paramref name="batch"/>.
    /// </summary>
    public static void InputGradient(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> weight, Span<float> gradInput,
        int batch, int inFeatures, int outFeatures, int first, int end)
    {
        Check(gradOutput.Length, batch, outFeatures, "gradOutput");
        Check(weight.Length, outFeatures, inFeatures, "weight");
        Check(gradInput.Length, batch, inFeatures, "gradInput");
        // Row i of the result broadcasts gradOutput[i, j], at i * outFeatures + j, against row j of the weight.
        OuterProducts(gradOutput, rowStep: outFeatures, sumStep: 1, weight, gradInput, batch, inFeatures, outFeatures, first, end);
    }

    /// <summary>
    /// <c>output[i, j] = Σ_p input[i, p] · weightT[p, j]</c> for the output's columns <paramref name="first"/> to
    /// <paramref name="end"/> (exclusive): <c>F.linear</c> without its bias, from the weight transposed (In x Out).
    /// </summary>
    /// <remarks>For short rows: <see cref="Forward"/> ends every block of sixteen dot products in sixteen horizontal
    /// sums, which outweigh the products when a row has a hundred-odd inputs; outer products have none.</remarks>
    public static void ForwardTransposed(ReadOnlySpan<float> input, ReadOnlySpan<float> weightT, Span<float> output,
        int batch, int inFeatures, int outFeatures, int first, int end)
    {
        Check(input.Length, batch, inFeatures, "input");
        Check(weightT.Length, inFeatures, outFeatures, "weightT");
        Check(output.Length, batch, outFeatures, "output");
        // Row i of the result broadcasts input[i, p], at i * inFeatures + p, against row p of the transposed weight.
        OuterProducts(input, rowStep: inFeatures, sumStep: 1, weightT, output, batch, outFeatures, inFeatures, first, end);
    }

    /// <summary><c>gradBias[j] = Σ_i gradOutput[i, j]</c>, the rows added in order.</summary>
    public static void BiasGradient(ReadOnlySpan<float> gradOutput, Span<float> gradBias, int batch, int outFeatures)
    {
        Check(gradOutput.Length, batch, outFeatures, "gradOutput");
        if (gradBias.Length != outFeatures) throw new ArgumentException($"Expected {outFeatures} bias elements; found {gradBias.Length}.", nameof(gradBias));
        gradBias.Clear();
        for (var i = 0; i < batch; i++)
        {
            var row = gradOutput.Slice(i * outFeatures, outFeatures);
            var j = 0;
            for (; j + Lanes <= outFeatures; j += Lanes)
                (Vector512.Create(gradBias.Slice(j, Lanes)) + Vector512.Create(row.Slice(j, Lanes))).CopyTo(gradBias.Slice(j, Lanes));
            for (; j < outFeatures; j++) gradBias[j] += row[j];
        }
    }

    static void Check(int length, int rows, int columns, string name)
    {
        if (length < (long)rows * columns)
            throw new ArgumentException($"Expected at least {rows} x {columns} elements in {name}; found {length}.", name);
    }

    static float Bias(ReadOnlySpan<float> bias, int j) => bias.IsEmpty ? 0f : bias[j];

    // result[r, c] = Σ_s a[r * rowStep + s * sumStep] · b[s, c], for every row r and the columns [first, end): eight rows
    // at a time against three or one 16-wide column blocks (24 or 8 sums held in registers), the rows past the last eight
    // one at a time; a last block narrower than 16 columns runs on a zero-padded copy of those columns.
    static void OuterProducts(ReadOnlySpan<float> a, int rowStep, int sumStep, ReadOnlySpan<float> b, Span<float> result,
        int rows, int columns, int sums, int first, int end)
    {
        ref var aRef = ref MemoryMarshal.GetReference(a);
        ref var bRef = ref MemoryMarshal.GetReference(b);
        ref var cRef = ref MemoryMarshal.GetReference(result);
        var full = first + (end - first) / Lanes * Lanes;
        var r = 0;
        for (; r + 8 <= rows; r += 8)
        {
            var c = first;
            for (; c + 3 * Lanes <= full; c += 3 * Lanes) Outer8x3(ref aRef, rowStep, sumStep, ref bRef, ref cRef, columns, sums, r, c);
            for (; c < full; c += Lanes) Outer8x1(ref aRef, rowStep, sumStep, ref bRef, ref cRef, columns, sums, r, c);
        }
        for (; r < rows; r++)
        {
            for (var c = first; c < full; c += Lanes) Outer1x1(ref aRef, rowStep, sumStep, ref bRef, ref cRef, columns, sums, r, c);
        }
        if (full < end) PaddedColumns(a, rowStep, sumStep, b, result, rows, columns, sums, full, end);
    }

    static void PaddedColumns(ReadOnlySpan<float> a, int rowStep, int sumStep, ReadOnlySpan<float> b, Span<float> result,
        int rows, int columns, int sums, int first, int end)
    {
        var width = end - first;
        var padded = ArrayPool<float>.Shared.Rent(sums * Lanes);
        var block = ArrayPool<float>.Shared.Rent(rows * Lanes);
        try
        {
            var tail = padded.AsSpan(0, sums * Lanes);
            tail.Clear();
            for (var s = 0; s < sums; s++) b.Slice(s * columns + first, width).CopyTo(tail.Slice(s * Lanes));
            OuterProducts(a, rowStep, sumStep, tail, block.AsSpan(0, rows * Lanes), rows, Lanes, sums, 0, Lanes);
            for (var r = 0; r < rows; r++) block.AsSpan(r * Lanes, width).CopyTo(result.Slice(r * columns + first));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(padded);
            ArrayPool<float>.Shared.Return(block);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Outer1x1(ref float a, int rowStep, int sumStep, ref float b, ref float result, int columns, int sums, int r, int c)
    {
        Vector512<float> c0 = default, c1 = default;
        ref var a0 = ref Unsafe.Add(ref a, r * rowStep);
        ref var b0 = ref Unsafe.Add(ref b, c);
        var s = 0;
        // Two chains of sums (even and odd terms), so that each waits less on the other's latency; added at the end.
        for (; s + 2 <= sums; s += 2)
        {
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a0, s * sumStep)), Vector512.LoadUnsafe(ref Unsafe.Add(ref b0, s * columns)), c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a0, (s + 1) * sumStep)), Vector512.LoadUnsafe(ref Unsafe.Add(ref b0, (s + 1) * columns)), c1);
        }
        if (s < sums) c0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref a0, s * sumStep)), Vector512.LoadUnsafe(ref Unsafe.Add(ref b0, s * columns)), c0);
        (c0 + c1).StoreUnsafe(ref Unsafe.Add(ref result, r * columns + c));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Outer8x3(ref float a, int rowStep, int sumStep, ref float b, ref float result, int columns, int sums, int r, int c)
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        Vector512<float> c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        ref var a0 = ref Unsafe.Add(ref a, r * rowStep);
        ref var b0 = ref Unsafe.Add(ref b, c);
        for (var s = 0; s < sums; s++)
        {
            ref var row = ref Unsafe.Add(ref b0, s * columns);
            var x0 = Vector512.LoadUnsafe(ref row);
            var x1 = Vector512.LoadUnsafe(ref row, Lanes);
            var x2 = Vector512.LoadUnsafe(ref row, 2 * Lanes);
            ref var col = ref Unsafe.Add(ref a0, s * sumStep);
            var v = Vector512.Create(col);
            c00 = Vector512.FusedMultiplyAdd(v, x0, c00); c01 = Vector512.FusedMultiplyAdd(v, x1, c01); c02 = Vector512.FusedMultiplyAdd(v, x2, c02);
            v = Vector512.Create(Unsafe.Add(ref col, rowStep));
            c10 = Vector512.FusedMultiplyAdd(v, x0, c10); c11 = Vector512.FusedMultiplyAdd(v, x1, c11); c12 = Vector512.FusedMultiplyAdd(v, x2, c12);
            v = Vector512.Create(Unsafe.Add(ref col, 2 * rowStep));
            c20 = Vector512.FusedMultiplyAdd(v, x0, c20); c21 = Vector512.FusedMultiplyAdd(v, x1, c21); c22 = Vector512.FusedMultiplyAdd(v, x2, c22);
            v = Vector512.Create(Unsafe.Add(ref col, 3 * rowStep));
            c30 = Vector512.FusedMultiplyAdd(v, x0, c30); c31 = Vector512.FusedMultiplyAdd(v, x1, c31); c32 = Vector512.FusedMultiplyAdd(v, x2, c32);
            v = Vector512.Create(Unsafe.Add(ref col, 4 * rowStep));
            c40 = Vector512.FusedMultiplyAdd(v, x0, c40); c41 = Vector512.FusedMultiplyAdd(v, x1, c41); c42 = Vector512.FusedMultiplyAdd(v, x2, c42);
            v = Vector512.Create(Unsafe.Add(ref col, 5 * rowStep));
            c50 = Vector512.FusedMultiplyAdd(v, x0, c50); c51 = Vector512.FusedMultiplyAdd(v, x1, c51); c52 = Vector512.FusedMultiplyAdd(v, x2, c52);
            v = Vector512.Create(Unsafe.Add(ref col, 6 * rowStep));
            c60 = Vector512.FusedMultiplyAdd(v, x0, c60); c61 = Vector512.FusedMultiplyAdd(v, x1, c61); c62 = Vector512.FusedMultiplyAdd(v, x2, c62);
            v = Vector512.Create(Unsafe.Add(ref col, 7 * rowStep));
            c70 = Vector512.FusedMultiplyAdd(v, x0, c70); c71 = Vector512.FusedMultiplyAdd(v, x1, c71); c72 = Vector512.FusedMultiplyAdd(v, x2, c72);
        }
        ref var out0 = ref Unsafe.Add(ref result, r * columns + c);
        Store3(ref out0, c00, c01, c02);
        Store3(ref Unsafe.Add(ref out0, columns), c10, c11, c12);
        Store3(ref Unsafe.Add(ref out0, 2 * columns), c20, c21, c22);
        Store3(ref Unsafe.Add(ref out0, 3 * columns), c30, c31, c32);
        Store3(ref Unsafe.Add(ref out0, 4 * columns), c40, c41, c42);
        Store3(ref Unsafe.Add(ref out0, 5 * columns), c50, c51, c52);
        Store3(ref Unsafe.Add(ref out0, 6 * columns), c60, c61, c62);
        Store3(ref Unsafe.Add(ref out0, 7 * columns), c70, c71, c72);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store3(ref float target, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2)
    {
        v0.StoreUnsafe(ref target);
        v1.StoreUnsafe(ref target, Lanes);
        v2.StoreUnsafe(ref target, 2 * Lanes);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Outer8x1(ref float a, int rowStep, int sumStep, ref float b, ref float result, int columns, int sums, int r, int c)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        ref var a0 = ref Unsafe.Add(ref a, r * rowStep);
        ref var b0 = ref Unsafe.Add(ref b, c);
        for (var s = 0; s < sums; s++)
        {
            var x = Vector512.LoadUnsafe(ref Unsafe.Add(ref b0, s * columns));
            ref var col = ref Unsafe.Add(ref a0, s * sumStep);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(col), x, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, rowStep)), x, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, 2 * rowStep)), x, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, 3 * rowStep)), x, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, 4 * rowStep)), x, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, 5 * rowStep)), x, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, 6 * rowStep)), x, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref col, 7 * rowStep)), x, c7);
        }
        ref var out0 = ref Unsafe.Add(ref result, r * columns + c);
        c0.StoreUnsafe(ref out0);
        c1.StoreUnsafe(ref Unsafe.Add(ref out0, columns));
        c2.StoreUnsafe(ref Unsafe.Add(ref out0, 2 * columns));
        c3.StoreUnsafe(ref Unsafe.Add(ref out0, 3 * columns));
        c4.StoreUnsafe(ref Unsafe.Add(ref out0, 4 * columns));
        c5.StoreUnsafe(ref Unsafe.Add(ref out0, 5 * columns));
        c6.StoreUnsafe(ref Unsafe.Add(ref out0, 6 * columns));
        c7.StoreUnsafe(ref Unsafe.Add(ref out0, 7 * columns));
    }

    static float Dot(ref float x, ref float w, int i, int j, int length)
    {
        ref var xi = ref Unsafe.Add(ref x, i * length);
        ref var wj = ref Unsafe.Add(ref w, j * length);
        var sum = Vector512<float>.Zero;
        var p = 0;
        for (; p + Lanes <= length; p += Lanes)
            sum = Vector512.FusedMultiplyAdd(Vector512.LoadUnsafe(ref xi, (nuint)p), Vector512.LoadUnsafe(ref wj, (nuint)p), sum);
        var total = Vector512.Sum(sum);
        for (; p < length; p++) total = MathF.FusedMultiplyAdd(Unsafe.Add(ref xi, p), Unsafe.Add(ref wj, p), total);
        return total;
    }

    // Sixteen dot products, rows i..i+3 of the input against rows j..j+3 of the weight: each 16-wide slice of the eight
    // rows is loaded once and used four times.
    [MethodImpl(MethodImplOptions.NoInlining)]
    static void Dot4x4(ref float x, ref float w, ref float y, ReadOnlySpan<float> bias, int i, int j, int length, int outFeatures)
    {
        ref var x0 = ref Unsafe.Add(ref x, i * length);
        ref var x1 = ref Unsafe.Add(ref x0, length);
        ref var x2 = ref Unsafe.Add(ref x1, length);
        ref var x3 = ref Unsafe.Add(ref x2, length);
        ref var w0 = ref Unsafe.Add(ref w, j * length);
        ref var w1 = ref Unsafe.Add(ref w0, length);
        ref var w2 = ref Unsafe.Add(ref w1, length);
        ref var w3 = ref Unsafe.Add(ref w2, length);
        Vector512<float> s00 = default, s01 = default, s02 = default, s03 = default, s10 = default, s11 = default, s12 = default, s13 = default;
        Vector512<float> s20 = default, s21 = default, s22 = default, s23 = default, s30 = default, s31 = default, s32 = default, s33 = default;
        var p = 0;
        for (; p + Lanes <= length; p += Lanes)
        {
            var at = (nuint)p;
            var a0 = Vector512.LoadUnsafe(ref x0, at);
            var a1 = Vector512.LoadUnsafe(ref x1, at);
            var a2 = Vector512.LoadUnsafe(ref x2, at);
            var a3 = Vector512.LoadUnsafe(ref x3, at);
            var b = Vector512.LoadUnsafe(ref w0, at);
            s00 = Vector512.FusedMultiplyAdd(a0, b, s00); s10 = Vector512.FusedMultiplyAdd(a1, b, s10);
            s20 = Vector512.FusedMultiplyAdd(a2, b, s20); s30 = Vector512.FusedMultiplyAdd(a3, b, s30);
            b = Vector512.LoadUnsafe(ref w1, at);
            s01 = Vector512.FusedMultiplyAdd(a0, b, s01); s11 = Vector512.FusedMultiplyAdd(a1, b, s11);
            s21 = Vector512.FusedMultiplyAdd(a2, b, s21); s31 = Vector512.FusedMultiplyAdd(a3, b, s31);
            b = Vector512.LoadUnsafe(ref w2, at);
            s02 = Vector512.FusedMultiplyAdd(a0, b, s02); s12 = Vector512.FusedMultiplyAdd(a1, b, s12);
            s22 = Vector512.FusedMultiplyAdd(a2, b, s22); s32 = Vector512.FusedMultiplyAdd(a3, b, s32);
            b = Vector512.LoadUnsafe(ref w3, at);
            s03 = Vector512.FusedMultiplyAdd(a0, b, s03); s13 = Vector512.FusedMultiplyAdd(a1, b, s13);
            s23 = Vector512.FusedMultiplyAdd(a2, b, s23); s33 = Vector512.FusedMultiplyAdd(a3, b, s33);
        }
        // All sixteen reduced before the first call: a vector still live across a call makes the JIT keep it in memory,
        // and it did so inside the loop above (every sum stored and reloaded each iteration: half the speed).
        var row0 = Reduce4(s00, s01, s02, s03);
        var row1 = Reduce4(s10, s11, s12, s13);
        var row2 = Reduce4(s20, s21, s22, s23);
        var row3 = Reduce4(s30, s31, s32, s33);
        ref var y0 = ref Unsafe.Add(ref y, i * outFeatures + j);
        Row(ref y0, bias, j, row0, ref x0, ref w0, ref w1, ref w2, ref w3, p, length);
        Row(ref Unsafe.Add(ref y0, outFeatures), bias, j, row1, ref x1, ref w0, ref w1, ref w2, ref w3, p, length);
        Row(ref Unsafe.Add(ref y0, 2 * outFeatures), bias, j, row2, ref x2, ref w0, ref w1, ref w2, ref w3, p, length);
        Row(ref Unsafe.Add(ref y0, 3 * outFeatures), bias, j, row3, ref x3, ref w0, ref w1, ref w2, ref w3, p, length);
    }

    // The four sums of four vectors' lanes, pairwise: [Σ v0, Σ v1, Σ v2, Σ v3].
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector128<float> Reduce4(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3) =>
        Vector128.Create(Vector512.Sum(v0), Vector512.Sum(v1), Vector512.Sum(v2), Vector512.Sum(v3));

    // Four outputs of one row: the vector sums, the lengths' tail past the last full vector, the bias.
    static void Row(ref float y, ReadOnlySpan<float> bias, int j, Vector128<float> sums, ref float x,
        ref float w0, ref float w1, ref float w2, ref float w3, int p, int length)
    {
        float t0 = sums[0], t1 = sums[1], t2 = sums[2], t3 = sums[3];
        for (; p < length; p++)
        {
            var v = Unsafe.Add(ref x, p);
            t0 = MathF.FusedMultiplyAdd(v, Unsafe.Add(ref w0, p), t0);
            t1 = MathF.FusedMultiplyAdd(v, Unsafe.Add(ref w1, p), t1);
            t2 = MathF.FusedMultiplyAdd(v, Unsafe.Add(ref w2, p), t2);
            t3 = MathF.FusedMultiplyAdd(v, Unsafe.Add(ref w3, p), t3);
        }
        y = Bias(bias, j) + t0;
        Unsafe.Add(ref y, 1) = Bias(bias, j + 1) + t1;
        Unsafe.Add(ref y, 2) = Bias(bias, j + 2) + t2;
        Unsafe.Add(ref y, 3) = Bias(bias, j + 3) + t3;
    }
}
