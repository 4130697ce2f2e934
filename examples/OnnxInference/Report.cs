using System.Diagnostics;
using System.Globalization;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;

namespace OnnxInference;

/// <summary>
/// What the app prints for a model, whatever runs it: each picture's classes, the time from process start to the first
/// answer, and on MNIST's test set the accuracy, the throughput at batch 256, the latency at batch 1 and the peak RSS.
/// bench/LibTorchPredict compiles this same file to measure the library on libtorch the same way.
/// </summary>
internal static class Report
{
    /// <summary>Prints the report.</summary>
    /// <param name="probabilities">N x 28 x 28 digit bytes and N → N x classes probabilities.</param>
    public static void Print(IReadOnlyList<string> classes, Func<byte[], int, float[]> probabilities, IEnumerable<string> images, string? mnist, TextWriter output)
    {
        var first = true;
        foreach (var image in images)
        {
            var clock = Stopwatch.StartNew();
            var p = probabilities(MnistDigit.Load(image), 1);
            var elapsed = clock.Elapsed.TotalMilliseconds;
            var ranked = p.Select((v, i) => (Class: classes[i], P: v)).OrderByDescending(x => x.P).Take(3).ToArray();
            var others = string.Join(", ", ranked.Skip(1).Select(r => Invariant($"{r.Class} ({r.P * 100:F2}%)")));
            output.WriteLine(Invariant($"{Path.GetFileName(image)}: {ranked[0].Class} ({ranked[0].P * 100:F2}%), then {others}  [{elapsed:F1} ms]"));
            if (first) output.WriteLine(Invariant($"first answer {(DateTime.Now - Process.GetCurrentProcess().StartTime).TotalSeconds:F2} s after process start"));
            first = false;
        }
        if (mnist is not null) TestSet(classes.Count, probabilities, mnist, output);
        if (PeakRssMegabytes() is { } rss) output.WriteLine(Invariant($"peak RSS {rss:F0} MB"));
    }

    static void TestSet(int classes, Func<byte[], int, float[]> probabilities, string folder, TextWriter output)
    {
        var images = IdxFile.Read(Existing(folder, "t10k-images-idx3-ubyte"), 3);
        var labels = IdxFile.Read(Existing(folder, "t10k-labels-idx1-ubyte"), 1).Data;
        var (count, size) = (images.Shape[0], images.Shape[1] * images.Shape[2]);
        const int Batch = 256;
        var correct = 0;
        var best = double.MaxValue;
        for (var pass = 0; pass < 3; pass++)
        {
            var clock = Stopwatch.StartNew();
            correct = 0;
            for (var start = 0; start < count; start += Batch)
            {
                var n = Math.Min(Batch, count - start);
                var p = probabilities(images.Data[(start * size)..((start + n) * size)], n);
                for (var i = 0; i < n; i++)
                    if (ArgMax(p.AsSpan(i * classes, classes)) == labels[start + i]) correct++;
            }
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        output.WriteLine(Invariant($"MNIST test set ({folder}): {correct * 100.0 / count:F2}% ({correct:N0}/{count:N0})"));

        const int Single = 2_000, WarmUp = 100;
        var times = new double[Single];
        for (var i = -WarmUp; i < Single; i++)
        {
            var index = (i + WarmUp) % count;
            var digit = images.Data[(index * size)..((index + 1) * size)];
            var clock = Stopwatch.StartNew();
            probabilities(digit, 1);
            if (i >= 0) times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        output.WriteLine(Invariant($"  batch {Batch}: {count / best:N0} images/s (best of 3 passes); batch 1: {times[Single / 2]:F3} ms an image (median of {Single:N0}; 90th percentile {times[Single * 9 / 10]:F3} ms)"));
    }

    /// <summary>The raw file, or its .gz beside it.</summary>
    static string Existing(string folder, string name)
    {
        var raw = Path.Combine(folder, name);
        return File.Exists(raw) || !File.Exists(raw + ".gz") ? raw : raw + ".gz";
    }

    static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>The process's peak resident set (Linux's VmHWM); null elsewhere.</summary>
    static double? PeakRssMegabytes()
    {
        const string Status = "/proc/self/status";
        if (!File.Exists(Status)) return null;
        var line = File.ReadLines(Status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? null : double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
