using System.Runtime.InteropServices;

namespace LeNetTorchSharp.Native;

/// <summary>
/// Stops glibc from returning freed tensor memory to the kernel after every training step, so that each step
/// reuses the pages of the last one instead of faulting fresh ones in.
/// </summary>
/// <remarks>
/// <para>
/// Why: libtorch allocates each step's activations and gradients with <c>malloc</c> and frees them when the step's
/// dispose scope ends. glibc hands the top of its heap back to the kernel whenever more than its trim threshold is
/// free there, and whether a step's blocks end up at the top depends on where longer-lived blocks happened to land:
/// the same program then pays for its memory again as page faults in some processes and not in others
/// (<c>bench/README.md</c>).
/// </para>
/// <para>
/// <see cref="RetainFreedMemory"/> fixes glibc's two thresholds: blocks under 32 MB come from the heap, and up to
/// <see cref="DefaultTrimThreshold"/> of free memory at its top is kept for reuse. It changes the whole process, so
/// the library never calls it: an application that trains calls it once at start, as the trainer program does.
/// It helps the thread that started the process, whose heap can grow; glibc gives other threads heaps of at most
/// 64 MB that it unmaps when they empty, whatever the thresholds.
/// </para>
/// </remarks>
public static class NativeHeap
{
    /// <summary>
    /// Free memory at the top of the heap that glibc keeps rather than returns: 64 MB, several times a LeNet
    /// step's working set, and small enough that rare bursts of allocation do not raise a high-water mark that is
    /// never handed back.
    /// </summary>
    public const long DefaultTrimThreshold = 64L << 20;

    /// <summary>Blocks from this size up are mapped on their own (and unmapped when freed): 32 MB, glibc's largest.</summary>
    public const int MmapThreshold = 32 << 20;

    // mallopt's parameter numbers, from glibc's malloc.h.
    const int M_TRIM_THRESHOLD = -1;
    const int M_MMAP_THRESHOLD = -3;

    static readonly Lock Gate = new();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int Mallopt(int parameter, int value);

    /// <summary>Whether <see cref="RetainFreedMemory"/> has set glibc's thresholds in this process.</summary>
    public static bool Retaining { get; private set; }

    /// <summary>
    /// Sets glibc's trim and mmap thresholds so that freed tensor memory stays in the process for the next step.
    /// Call it once, at program start; later calls change nothing.
    /// </summary>
    /// <param name="trimThreshold">Free bytes at the top of the heap kept rather than returned to the kernel.</param>
    /// <returns>True where the thresholds are set (Linux with glibc); false elsewhere, where it does nothing
    /// (other C libraries and operating systems have allocators of their own).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="trimThreshold"/> is not in [32 MB, 2 GB).</exception>
    public static bool RetainFreedMemory(long trimThreshold = DefaultTrimThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trimThreshold, (long)MmapThreshold);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(trimThreshold, (long)int.MaxValue + 1);
        lock (Gate)
        {
            if (Retaining) return true;
            if (!OperatingSystem.IsLinux() || !NativeLibrary.TryLoad("libc.so.6", out var libc)) return false;
            // libc.so.6 with mallopt is glibc; musl's libc has neither that name nor the thresholds.
            if (!NativeLibrary.TryGetExport(libc, "mallopt", out var address)) return false;
            var mallopt = Marshal.GetDelegateForFunctionPointer<Mallopt>(address);
            // mallopt returns 1 on success. Setting either threshold also turns off glibc's dynamic
            // adjustment of both, which is what let a process's first frees decide its fate.
            Retaining = mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1
                && mallopt(M_TRIM_THRESHOLD, (int)trimThreshold) == 1;
            return Retaining;
        }
    }
}
