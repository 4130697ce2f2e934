using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using LeNetTorchSharp.Kernels;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>The library's kernels share libtorch's OpenMP threads: every chunk once, side by side, no thread created.</summary>
public class LibTorchThreadsTests
{
    static HashSet<int> OsThreads() => Directory.GetDirectories("/proc/self/task").Select(d => int.Parse(Path.GetFileName(d))).ToHashSet();

    [DllImport("libc")]
    static extern int gettid();

    [Test]
    public void Every_chunk_runs_once()
    {
        var runs = new int[37];
        LibTorchThreads.For(runs.Length, chunk => Interlocked.Increment(ref runs[chunk]));
        Assert.That(runs, Is.All.EqualTo(1));
    }

    [Test]
    public void On_linux_chunks_run_side_by_side_on_libtorchs_threads_and_no_thread_is_created()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("libgomp is libtorch's OpenMP runtime on Linux only");
        Assert.That(LibTorchThreads.Available, Is.True, "GOMP_parallel found through libtorch");
        Assume.That(get_num_threads(), Is.GreaterThanOrEqualTo(2), "libtorch runs on one thread here");
        // libtorch's own parallel work first (an elementwise operation over 32 grains), so that its team exists.
        using (var a = randn(1 << 20)) using (var e = a.exp()) { }
        var threads = OsThreads();

        // Each chunk waits until both have started: it finishes only if two threads run them at once.
        var started = new CountdownEvent(2);
        var ids = new ConcurrentBag<int>();
        var together = new bool[2];
        LibTorchThreads.For(2, chunk =>
        {
            ids.Add(gettid());
            started.Signal();
            together[chunk] = started.Wait(TimeSpan.FromSeconds(10));
        });
        Assert.That(together, Is.All.True, "the two chunks ran at the same time");
        Assert.That(ids.Distinct().Count(), Is.EqualTo(2));
        Assert.That(ids, Is.SubsetOf(threads), "both are threads that were there before: the caller and libtorch's worker");
    }

    [Test]
    public void An_exception_in_a_chunk_is_rethrown_to_the_caller_after_the_others_ran()
    {
        var runs = 0;
        var error = Assert.Throws<InvalidOperationException>(() => LibTorchThreads.For(8, chunk =>
        {
            Interlocked.Increment(ref runs);
            if (chunk == 3) throw new InvalidOperationException("chunk 3");
        }));
        Assert.That(error!.Message, Is.EqualTo("chunk 3"));
        Assert.That(runs, Is.GreaterThanOrEqualTo(4));
    }

    [Test]
    public void With_libtorch_on_one_thread_the_chunks_run_on_the_calling_thread()
    {
        var before = get_num_threads();
        set_num_threads(1);
        try
        {
            var ids = new ConcurrentBag<int>();
            LibTorchThreads.For(8, _ => ids.Add(Environment.CurrentManagedThreadId));
            Assert.That(ids.Distinct(), Is.EqualTo(new[] { Environment.CurrentManagedThreadId }));
        }
        finally
        {
            set_num_threads(before);
        }
    }
}
