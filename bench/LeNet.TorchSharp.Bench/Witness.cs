using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Bench;

/// <summary>
/// Fixed workloads that report their own speed, slice after slice, until the process is killed: the machine's speed
/// on the core it runs on and in the caches and memory it shares, measured while a training process runs on another.
/// </summary>
/// <remarks>
/// bench/spread.sh pins it to one core and the two training programs, on one thread each, to another; an epoch is
/// then compared with what this measured over the same seconds. Two workloads take turns: multiply-adds in registers
/// (the core's speed: its clock, a sibling thread of another guest) and a dependent walk through 16 MB in random
/// order (the shared last-level cache and memory: other guests' traffic). Neither changes from slice to slice, so when
/// one slows the machine did: nothing in either training program can move the first, and the second only through
/// the cache the two share.
/// </remarks>
public static class Witness
{
    /// <summary>Runs until killed, printing "seconds since the Unix epoch, GFLOP/s, nanoseconds a step of the walk" for
    /// every pair of slices (a few tens of milliseconds).</summary>
    public static void Run(TextWriter output)
    {
        var walk = RandomCycle(16 << 20);
        const long iterations = 1_000_000;
        var width = Vector512.IsHardwareAccelerated ? 16 : 8;
        // Twelve independent multiply-adds an iteration: enough to keep two FMA pipes busy at their latency.
        var flops = iterations * 12 * 2.0 * width;
        var sink = 0f;
        while (true)
        {
            var clock = Stopwatch.StartNew();
            for (var repeat = 0; repeat < 20; repeat++)
                sink += width == 16
                    ? Slice512(iterations, Vector512.Create(0.9999999f), Vector512.Create(1e-7f))
                    : Slice256(iterations, Vector256.Create(0.9999999f), Vector256.Create(1e-7f));
            var seconds = clock.Elapsed.TotalSeconds;
            clock.Restart();
            var end = Walk(walk, Steps);
            var nanoseconds = clock.Elapsed.TotalSeconds / Steps * 1e9;
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{now:F3} {20 * flops / seconds / 1e9:F1} {nanoseconds:F1}{(sink == 1 || end < 0 ? " " : "")}"));
        }
    }

    const int Steps = 200_000;

    /// <summary>A cycle through every 64-byte line of <paramref name="bytes"/> bytes in a seeded random order: each
    /// step's address depends on the last load, so no prefetcher can run ahead.</summary>
    static int[] RandomCycle(int bytes)
    {
        const int stride = 16;
        var lines = bytes / 64;
        var order = Enumerable.Range(0, lines).ToArray();
        var random = new Random(1);
        for (var i = lines - 1; i > 0; i--)
        {
            var j = random.Next(i);
            (order[i], order[j]) = (order[j], order[i]);
        }
        var next = new int[lines * stride];
        for (var i = 0; i < lines; i++) next[order[i] * stride] = order[(i + 1) % lines] * stride;
        return next;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static int Walk(int[] next, int steps)
    {
        var at = 0;
        for (var i = 0; i < steps; i++) at = next[at];
        return at;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Slice512(long iterations, Vector512<float> m, Vector512<float> c)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (var i = 0L; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, c); a1 = Vector512.FusedMultiplyAdd(a1, m, c);
            a2 = Vector512.FusedMultiplyAdd(a2, m, c); a3 = Vector512.FusedMultiplyAdd(a3, m, c);
            a4 = Vector512.FusedMultiplyAdd(a4, m, c); a5 = Vector512.FusedMultiplyAdd(a5, m, c);
            a6 = Vector512.FusedMultiplyAdd(a6, m, c); a7 = Vector512.FusedMultiplyAdd(a7, m, c);
            a8 = Vector512.FusedMultiplyAdd(a8, m, c); a9 = Vector512.FusedMultiplyAdd(a9, m, c);
            a10 = Vector512.FusedMultiplyAdd(a10, m, c); a11 = Vector512.FusedMultiplyAdd(a11, m, c);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static float Slice256(long iterations, Vector256<float> m, Vector256<float> c)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default,
            a6 = default, a7 = default, a8 = default, a9 = default, a10 = default, a11 = default;
        for (var i = 0L; i < iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, c); a1 = Vector256.FusedMultiplyAdd(a1, m, c);
            a2 = Vector256.FusedMultiplyAdd(a2, m, c); a3 = Vector256.FusedMultiplyAdd(a3, m, c);
            a4 = Vector256.FusedMultiplyAdd(a4, m, c); a5 = Vector256.FusedMultiplyAdd(a5, m, c);
            a6 = Vector256.FusedMultiplyAdd(a6, m, c); a7 = Vector256.FusedMultiplyAdd(a7, m, c);
            a8 = Vector256.FusedMultiplyAdd(a8, m, c); a9 = Vector256.FusedMultiplyAdd(a9, m, c);
            a10 = Vector256.FusedMultiplyAdd(a10, m, c); a11 = Vector256.FusedMultiplyAdd(a11, m, c);
        }
        return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
