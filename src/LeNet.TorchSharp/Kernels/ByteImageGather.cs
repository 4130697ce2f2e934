using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchSharp;
using LeNetTorchSharp.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// A batch of byte images gathered straight into float32 with what the per-batch arithmetic (to float, divided by 255,
/// then <see cref="Normalize"/>) gives each of the 256 byte values: MNIST's <c>GetItems</c> in one pass.
/// </summary>
/// <remarks>
/// Why: libtorch's way is five operations, each a pass over the batch and a hand-off to its threads (<c>index_select</c>,
/// <c>to(float32)</c>, <c>div_</c>, <c>sub</c>, <c>div_</c>): 70 µs for a batch of 128 at 28x28 on 2 cores of an AMD
/// EPYC, 136 µs inside a training loop, a sixth of an MLP step; this pass 13–16 µs (bench/history.md, 2026-12-01 late
/// night). Each element's value depends on its byte alone, so what those libtorch operations give the 256 byte values is
/// computed once, by them; the batch is then that arithmetic in vectors where it was checked to give the same bits for
/// every byte, else a lookup. Either way the batch has libtorch's bits (tested for every byte value and four
/// transforms). Other transforms, a GPU dataset or indices that are not a contiguous int64 CPU vector take libtorch's way.
/// </remarks>
internal static class ByteImageGather
{
    /// <summary>Above this many elements, rows are split over libtorch's threads (an evaluation's whole split, not a batch).</summary>
    const long ParallelFrom = 1 << 20;

    /// <summary>Calls that took this path, so that tests can tell it from libtorch's.</summary>
    internal static long Calls;

    /// <summary>What each of the 256 byte values becomes: the table, and the arithmetic that gives the same bits where
    /// that was checked (the vector path computes it rather than looking it up).</summary>
    /// <param name="Table">Element <c>b</c>: what byte <c>b</c> becomes.</param>
    /// <param name="Formula">(x / 255 - Mean) / Std in float32 gives <see cref="Table"/>'s bits for every byte, or null.</param>
    public sealed record ByteValues(float[] Table, (float Mean, float Std)? Formula);

    /// <summary>What the 256 byte values become, or null when <paramref name="transform"/> is not one whose result depends
    /// on the element alone (null or <see cref="Normalize"/>).</summary>
    /// <param name="transform">The dataset's transform, applied after <paramref name="toFloat"/>.</param>
    /// <param name="toFloat">The dataset's own conversion of float images from bytes, the step before the transform.</param>
    public static ByteValues? Values(torchvision.ITransform? transform, Func<Tensor, Tensor> toFloat)
    {
        if (transform is not null and not Normalize) return null;
        float[] table;
        using (NewDisposeScope())
        {
            var values = toFloat(arange(256, ScalarType.Int32).to(ScalarType.Byte).view(1, 1, 16, 16));
            if (transform is not null) values = transform.call(values);
            table = values.contiguous().data<float>().ToArray();
        }
        // libtorch converts a double scalar to the tensor's float32 and divides exactly: if this build does otherwise,
        // the comparison says so and the table alone is used.
        var formula = transform is Normalize normalize ? ((float)normalize.Mean, (float)normalize.Std) : (0f, 1f);
        for (var b = 0; b < 256; b++)
        {
            if (BitConverter.SingleToInt32Bits(((float)b / 255f - formula.Item1) / formula.Item2) != BitConverter.SingleToInt32Bits(table[b]))
                return new ByteValues(table, null);
        }
        return new ByteValues(table, formula);
    }

    /// <summary>Whether <see cref="Gather"/> takes <paramref name="images"/> (N x C x H x W, at most 2 GB: a span's
    /// reach) at <paramref name="indices"/>.</summary>
    public static bool Handles(Tensor images, Tensor labels, Tensor indices) =>
        images.device_type == DeviceType.CPU && images.dtype == ScalarType.Byte && images.dim() == 4 &&
        images.numel() <= int.MaxValue && images.is_contiguous() &&
        labels.device_type == DeviceType.CPU && labels.dtype == ScalarType.Int64 && labels.is_contiguous() &&
        indices.device_type == DeviceType.CPU && indices.dtype == ScalarType.Int64 && indices.dim() == 1 && indices.is_contiguous();

    /// <summary>The float images and labels at <paramref name="indices"/>, each element what <paramref name="values"/> says its byte becomes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is not in [0, N).</exception>
    public static (Tensor Input, Tensor Target) Gather(Tensor images, Tensor labels, Tensor indices, ByteValues values)
    {
        Interlocked.Increment(ref Calls);
        var shape = images.shape;
        var count = shape[0];
        var pixels = checked((int)(shape[1] * shape[2] * shape[3]));
        var rows = MemoryMarshal.Cast<byte, long>(indices.bytes);
        for (var r = 0; r < rows.Length; r++)
        {
            if ((ulong)rows[r] >= (ulong)count)
                throw new ArgumentOutOfRangeException(nameof(indices), rows[r],
                    $"indices: expected sample indices in [0, {count}); found {rows[r]} at position {r}.");
        }
        var input = empty([rows.Length, shape[1], shape[2], shape[3]], ScalarType.Float32);
        var target = empty(rows.Length, ScalarType.Int64);
        var allLabels = MemoryMarshal.Cast<byte, long>(labels.bytes);
        var picked = MemoryMarshal.Cast<byte, long>(target.bytes);
        for (var r = 0; r < rows.Length; r++) picked[r] = allLabels[(int)rows[r]];

        void Body(int first, int end)
        {
            var source = images.bytes;
            var indexes = MemoryMarshal.Cast<byte, long>(indices.bytes);
            var output = TensorMemory.Floats(input);
            for (var r = first; r < end; r++)
                Row(source.Slice(checked((int)(indexes[r] * pixels)), pixels), output.Slice(r * pixels, pixels), values);
        }

        if ((long)rows.Length * pixels >= ParallelFrom && LibTorchThreads.Available)
            LibTorchThreads.ForRanges(rows.Length, LibTorchThreads.ChunkCount(rows.Length), (_, first, end) => Body(first, end));
        else
            Body(0, rows.Length);
        return (input, target);
    }

    // to[p] = what from[p] becomes: sixteen at a time by the checked formula where AVX-512 is there, else by the table
    // (a byte cannot index past its 256 values, so without bounds checks).
    static void Row(ReadOnlySpan<byte> from, Span<float> to, ByteValues values)
    {
        ref var source = ref MemoryMarshal.GetReference(from);
        ref var output = ref MemoryMarshal.GetReference(to);
        var p = 0;
        if (values.Formula is var (mean, std) && Avx512F.IsSupported)
        {
            Vector512<float> range = Vector512.Create(255f), shift = Vector512.Create(mean), scale = Vector512.Create(std);
            for (; p + 16 <= from.Length; p += 16)
            {
                var x = Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Vector128.LoadUnsafe(ref source, (nuint)p)));
                ((x / range - shift) / scale).StoreUnsafe(ref output, (nuint)p);
            }
        }
        ref var table = ref MemoryMarshal.GetArrayDataReference(values.Table);
        for (; p < from.Length; p++) Unsafe.Add(ref output, p) = Unsafe.Add(ref table, Unsafe.Add(ref source, p));
    }
}
