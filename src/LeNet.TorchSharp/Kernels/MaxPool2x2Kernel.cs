using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The loops behind <see cref="MaxPool2x2"/>: 2x2 max pooling with stride 2 over contiguous float32
/// planes, forward and backward, following libtorch's CPU kernel to the bit.
/// </summary>
/// <remarks>
/// <para>
/// libtorch's rule: scan a window in row-major order, starting from its first element; a later element
/// becomes the maximum if it is greater or NaN. So ties go to the first maximum, and a window holding
/// NaN outputs NaN and sends its gradient to its last NaN. Rows and columns left over by an odd size
/// belong to no window (floor mode).
/// </para>
/// <para>
/// Why loops: built from libtorch's elementwise operations, the backward pass took 14 of them over strided
/// views; here it is one pass over the memory. Eight floats of a row hold four
/// windows' top (or bottom) pairs; each window is worked out in the even lane of its pair, with its
/// right-hand element brought over by swapping neighbours. A row whose window count is not a multiple
/// of four ends with a block that overlaps the one before it: recomputing a window writes the same
/// values again.
/// </para>
/// </remarks>
internal static class MaxPool2x2Kernel
{
    const int WindowsPerBlock = 4;

    /// <summary>Whether this machine runs the 256-bit vector code in hardware (x64 with AVX2).</summary>
    public static bool IsAccelerated => Vector256.IsHardwareAccelerated;

    static readonly Vector256<int> SwapNeighbours = Vector256.Create(1, 0, 3, 2, 5, 4, 7, 6);
    static readonly Vector256<int> DuplicateEach = Vector256.Create(0, 0, 1, 1, 2, 2, 3, 3);
    static readonly Vector256<int> EvenLanesFirst = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
    static readonly Vector256<float> EvenLanes = Vector256.Create(-1, 0, -1, 0, -1, 0, -1, 0).AsSingle();

    /// <summary>Pools each <paramref name="height"/> x <paramref name="width"/> plane of <paramref name="input"/> into <paramref name="output"/>.</summary>
    public static void Forward(ReadOnlySpan<float> input, Span<float> output, int height, int width)
    {
        var (outHeight, outWidth, planes) = Sizes(input.Length, output.Length, height, width);
        for (var plane = 0; plane < planes; plane++)
        {
            for (var row = 0; row < outHeight; row++)
            {
                var top = input.Slice((plane * height + 2 * row) * width, width);
                var bottom = input.Slice((plane * height + 2 * row + 1) * width, width);
                var pooled = output.Slice((plane * outHeight + row) * outWidth, outWidth);
                if (outWidth < WindowsPerBlock)
                {
                    for (var j = 0; j < outWidth; j++) pooled[j] = Scan(top, bottom, j).Max;
                    continue;
                }
                // The slices above were bounds-checked whole; within them, a block's loads need no further check.
                ref var topRef = ref MemoryMarshal.GetReference(top);
                ref var bottomRef = ref MemoryMarshal.GetReference(bottom);
                ref var pooledRef = ref MemoryMarshal.GetReference(pooled);
                for (var j = 0; ; j = Math.Min(j + WindowsPerBlock, outWidth - WindowsPerBlock))
                {
                    var max = Scan(Vector256.LoadUnsafe(ref topRef, (nuint)(2 * j)), Vector256.LoadUnsafe(ref bottomRef, (nuint)(2 * j))).Max;
                    Vector256.Shuffle(max, EvenLanesFirst).GetLower().StoreUnsafe(ref pooledRef, (nuint)j);
                    if (j == outWidth - WindowsPerBlock) break;
                }
            }
        }
    }

    /// <summary>
    /// Writes the gradient of each plane of <paramref name="input"/>: each window's maximum gets its output's
    /// gradient, the rest of the window zero. Elements in no window are left as they are (zero them first).
    /// </summary>
    public static void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> gradOutput, Span<float> gradInput, int height, int width)
    {
        var (outHeight, outWidth, planes) = Sizes(input.Length, gradOutput.Length, height, width);
        if (gradInput.Length != input.Length)
            throw new ArgumentException($"gradInput holds {gradInput.Length} elements; the input {input.Length}.", nameof(gradInput));
        for (var plane = 0; plane < planes; plane++)
        {
            for (var row = 0; row < outHeight; row++)
            {
                var topStart = (plane * height + 2 * row) * width;
                var top = input.Slice(topStart, width);
                var bottom = input.Slice(topStart + width, width);
                var gradTop = gradInput.Slice(topStart, width);
                var gradBottom = gradInput.Slice(topStart + width, width);
                var grad = gradOutput.Slice((plane * outHeight + row) * outWidth, outWidth);
                if (outWidth < WindowsPerBlock)
                {
                    for (var j = 0; j < outWidth; j++)
                    {
                        var winner = Scan(top, bottom, j).Winner;
                        gradTop[2 * j] = gradTop[2 * j + 1] = gradBottom[2 * j] = gradBottom[2 * j + 1] = 0;
                        (winner < 2 ? gradTop : gradBottom)[2 * j + winner % 2] = grad[j];
                    }
                    continue;
                }
                ref var topRef = ref MemoryMarshal.GetReference(top);
                ref var bottomRef = ref MemoryMarshal.GetReference(bottom);
                ref var gradTopRef = ref MemoryMarshal.GetReference(gradTop);
                ref var gradBottomRef = ref MemoryMarshal.GetReference(gradBottom);
                ref var gradRef = ref MemoryMarshal.GetReference(grad);
                for (var j = 0; ; j = Math.Min(j + WindowsPerBlock, outWidth - WindowsPerBlock))
                {
                    var scan = Scan(Vector256.LoadUnsafe(ref topRef, (nuint)(2 * j)), Vector256.LoadUnsafe(ref bottomRef, (nuint)(2 * j)));
                    var g = Vector256.Shuffle(Vector128.LoadUnsafe(ref gradRef, (nuint)j).ToVector256Unsafe(), DuplicateEach);
                    // Each element gets the gradient if it is the last one in scan order to replace the maximum.
                    var afterC = ~scan.ByD;
                    var afterB = ~scan.ByC & afterC;
                    var toA = ~scan.ByB & afterB & g;
                    var toB = scan.ByB & afterB & g;
                    var toC = scan.ByC & afterC & g;
                    var toD = scan.ByD & g;
                    Vector256.ConditionalSelect(EvenLanes, toA, Vector256.Shuffle(toB, SwapNeighbours)).StoreUnsafe(ref gradTopRef, (nuint)(2 * j));
                    Vector256.ConditionalSelect(EvenLanes, toC, Vector256.Shuffle(toD, SwapNeighbours)).StoreUnsafe(ref gradBottomRef, (nuint)(2 * j));
                    if (j == outWidth - WindowsPerBlock) break;
                }
            }
        }
    }

    static (int OutHeight, int OutWidth, int Planes) Sizes(int inputLength, int outputLength, int height, int width)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 2);
        int outHeight = height / 2, outWidth = width / 2, planes = inputLength / (height * width);
        if (inputLength != planes * height * width || outputLength != planes * outHeight * outWidth)
            throw new ArgumentException(
                $"Expected whole {height}x{width} planes and {outHeight}x{outWidth} outputs; found {inputLength} input and {outputLength} output elements.");
        return (outHeight, outWidth, planes);
    }

    // Window elements in scan order: a b (top row), c d (bottom row). For each of four windows, in the
    // even lane of its pair: the maximum, and whether b, c, d replaced the maximum when scanned.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static (Vector256<float> Max, Vector256<float> ByB, Vector256<float> ByC, Vector256<float> ByD) Scan(Vector256<float> top, Vector256<float> bottom)
    {
        var b = Vector256.Shuffle(top, SwapNeighbours);
        var d = Vector256.Shuffle(bottom, SwapNeighbours);
        var byB = Replaces(b, top);
        var max = Vector256.ConditionalSelect(byB, b, top);
        var byC = Replaces(bottom, max);
        max = Vector256.ConditionalSelect(byC, bottom, max);
        var byD = Replaces(d, max);
        return (Vector256.ConditionalSelect(byD, d, max), byB, byC, byD);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Replaces(Vector256<float> element, Vector256<float> max) =>
        Vector256.GreaterThan(element, max) | ~Vector256.Equals(element, element);

    // The same rule one window at a time, for rows narrower than a block. Winner: 0 a, 1 b, 2 c, 3 d.
    static (float Max, int Winner) Scan(ReadOnlySpan<float> top, ReadOnlySpan<float> bottom, int window)
    {
        ReadOnlySpan<float> elements = [top[2 * window], top[2 * window + 1], bottom[2 * window], bottom[2 * window + 1]];
        var (max, winner) = (elements[0], 0);
        for (var k = 1; k < elements.Length; k++)
        {
            if (elements[k] > max || float.IsNaN(elements[k])) (max, winner) = (elements[k], k);
        }
        return (max, winner);
    }
}
