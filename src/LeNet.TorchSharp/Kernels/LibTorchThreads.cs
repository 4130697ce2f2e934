using System.Runtime.InteropServices;
using TorchSharp;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// Runs this library's kernels on libtorch's own intra-op threads: the OpenMP team libtorch's operations use,
/// entered through libgomp's <c>GOMP_parallel</c>, the call a C compiler emits for <c>#pragma omp parallel</c>.
/// </summary>
/// <remarks>
/// <para>
/// Why not the .NET thread pool: libtorch's OpenMP worker keeps spinning on the second core for a while after each
/// of libtorch's parallel regions, so .NET threads and libgomp's took turns on two cores and every step got slower
/// (bench/history.md, 2026-12-01). Entering the same team hands the kernel to that spinning worker at once.
/// </para>
/// <para>
/// The team is libtorch's: as many threads as <c>torch.get_num_threads()</c>, none created. Where libtorch's
/// OpenMP runtime is not libgomp (Windows, macOS), or <c>GOMP_parallel</c> cannot be found, the work runs on the
/// calling thread. Chunks are handed out in turn to whichever thread asks next; callers that reduce over chunks
/// keep one partial result per chunk and add them up in chunk order, so results do not depend on the schedule.
/// </para>
/// </remarks>
internal static class LibTorchThreads
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate void GompParallel(IntPtr function, IntPtr data, uint threads, uint flags);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate void Region(IntPtr data);

    sealed class Work(int chunks, Action<int> body)
    {
        public readonly int Chunks = chunks;
        public readonly Action<int> Body = body;
        public int Next = -1;
        public Exception? Error;
    }

    static readonly GompParallel? Parallel = FindGompParallel();
    // Kept in a static field: the function pointer handed to libgomp lives as long as this delegate.
    static readonly Region RegionBody = RunChunks;
    static readonly IntPtr RegionPointer = Parallel is null ? IntPtr.Zero : Marshal.GetFunctionPointerForDelegate(RegionBody);

    /// <summary>Whether work is shared with libtorch's OpenMP team (false: it runs on the calling thread).</summary>
    public static bool Available => Parallel is not null;

    /// <summary>
    /// How many chunks the kernels split their work into at most: a few per thread, so that neither waits long for the
    /// other, and a number that does not depend on the thread count, so that sums added in chunk order are the same on
    /// every machine.
    /// </summary>
    public const int Chunks = 8;

    /// <summary>The chunk count for <paramref name="items"/> items: one per item up to <paramref name="most"/>, and one for none.</summary>
    public static int ChunkCount(int items, int most = Chunks) => Math.Clamp(items, 1, most);

    /// <summary>
    /// Runs <paramref name="body"/>(chunk, start, end) for <paramref name="chunks"/> contiguous ranges that together cover
    /// items <c>[0, items)</c>, as <see cref="For"/> runs its chunks.
    /// </summary>
    public static void ForRanges(int items, int chunks, Action<int, int, int> body) =>
        For(chunks, chunk =>
        {
            var (start, end) = Range(items, chunk, chunks);
            body(chunk, start, end);
        });

    /// <summary>Chunk <paramref name="chunk"/> of <paramref name="chunks"/> contiguous ranges covering items <c>[0, items)</c>.</summary>
    public static (int Start, int End) Range(int items, int chunk, int chunks) =>
        ((int)((long)items * chunk / chunks), (int)((long)items * (chunk + 1) / chunks));

    /// <summary>Adds each chunk's partial sums into the first chunk's, element by element in chunk order, and returns
    /// those: the same result whichever thread ran which chunk.</summary>
    public static float[] SumInOrder(float[][] partials)
    {
        var total = partials[0];
        for (var chunk = 1; chunk < partials.Length; chunk++)
        {
            for (var i = 0; i < total.Length; i++) total[i] += partials[chunk][i];
        }
        return total;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for each chunk index in <c>[0, chunks)</c>, on libtorch's intra-op threads
    /// when there are several, and returns when all have run. The first exception a chunk throws is rethrown here.
    /// </summary>
    public static void For(int chunks, Action<int> body)
    {
        var threads = Parallel is null || chunks < 2 ? 1 : Math.Min(chunks, torch.get_num_threads());
        if (threads < 2)
        {
            for (var chunk = 0; chunk < chunks; chunk++) body(chunk);
            return;
        }
        var work = new Work(chunks, body);
        var handle = GCHandle.Alloc(work);
        try
        {
            Parallel!(RegionPointer, GCHandle.ToIntPtr(handle), (uint)threads, 0);
        }
        finally
        {
            handle.Free();
        }
        if (work.Error is { } error) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    // Runs on every thread of the team. An exception must not cross back into libgomp: it is kept for For.
    static void RunChunks(IntPtr data)
    {
        var work = (Work)GCHandle.FromIntPtr(data).Target!;
        try
        {
            for (var chunk = Interlocked.Increment(ref work.Next); chunk < work.Chunks; chunk = Interlocked.Increment(ref work.Next))
                work.Body(chunk);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref work.Error, e, null);
        }
    }

    static GompParallel? FindGompParallel()
    {
        if (!OperatingSystem.IsLinux()) return null;
        // libtorch is loaded by now (a kernel runs on its tensors); a name already loaded returns the same library,
        // and a symbol looked up through it is searched in it and the libraries it depends on: its libgomp.
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var libtorch)) return null;
        return NativeLibrary.TryGetExport(libtorch, "GOMP_parallel", out var address)
            ? Marshal.GetDelegateForFunctionPointer<GompParallel>(address)
            : null;
    }
}
