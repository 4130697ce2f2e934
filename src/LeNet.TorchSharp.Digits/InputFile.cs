using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace LeNetTorchSharp;

/// <summary>
/// Opens a file the user named, turning what the file system says (missing, a directory, a pipe or device, too large,
/// no permission) into one sentence for the caller's own exception, which names the file.
/// </summary>
/// <remarks>
/// Everything is checked before the file is opened: opening a FIFO waits for a writer forever, a device such as
/// <c>/dev/zero</c> never ends, and a sparse file can claim gigabytes it would take minutes to read.
/// </remarks>
internal static class InputFile
{
    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The largest size accepted; a larger file is refused before it is opened.</param>
    /// <param name="error">Makes the caller's exception from the path and the problem, e.g. <c>(p, m) => new WeightsException(p, m)</c>.</param>
    public static FileStream OpenRead(string path, long maxBytes, Func<string, string, Exception> error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path)) throw error(path, "is a directory; expected a file");
        // Before File.Exists, which is false for a socket.
        if (SpecialKind(path) is { } kind) throw error(path, $"is {kind}, not a regular file; expected a file");
        if (!File.Exists(path)) throw error(path, "no such file");
        var length = new FileInfo(path).Length;
        if (length > maxBytes) throw error(path, $"is {Size(length)}; expected at most {Size(maxBytes)}");
        try
        {
            return File.OpenRead(path);
        }
        catch (UnauthorizedAccessException)
        {
            throw error(path, "cannot be read: permission denied");
        }
        catch (IOException e)
        {
            throw error(path, $"cannot be read ({e.Message})");
        }
    }

    /// <summary>Reads all of <paramref name="path"/>, with the same checks and errors as <see cref="OpenRead"/>.</summary>
    public static byte[] ReadAllBytes(string path, long maxBytes, Func<string, string, Exception> error)
    {
        using var stream = OpenRead(path, maxBytes, error);
        using var buffer = new MemoryStream();
        try
        {
            stream.CopyTo(buffer);
        }
        catch (IOException e)
        {
            throw error(path, $"cannot be read ({e.Message})");
        }
        // A file that grew while being read is held to the same bound.
        if (buffer.Length > maxBytes) throw error(path, $"grew to {Size(buffer.Length)} while being read; expected at most {Size(maxBytes)}");
        return buffer.ToArray();
    }

    /// <summary>A size as people read it: bytes, then KiB, MiB, GiB.</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1L << 10 => $"{bytes} bytes",
        < 1L << 20 => $"{bytes / 1024.0:0.#} KiB",
        < 1L << 30 => $"{bytes / 1048576.0:0.#} MiB",
        _ => $"{bytes / 1073741824.0:0.##} GiB",
    };

    /// <summary>
    /// What kind of special file <paramref name="path"/> is ("a FIFO", "a character device", …), or null for a regular
    /// file. Linux answers through <c>statx</c>, whose layout is the same on every architecture; elsewhere a special
    /// file is told by the size 0 the system reports for it (an empty regular file is refused as empty anyway).
    /// </summary>
    internal static string? SpecialKind(string path)
    {
        if (OperatingSystem.IsLinux() && Statx.Value is { } statx)
        {
            var buffer = new byte[256];
            // Where statx fails (no such file), the caller's own checks say so.
            if (statx(AtFdCwd, path, 0, StatxType, buffer) != 0) return null;
            return (BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(28)) & 0xF000) switch
            {
                0x8000 or 0x4000 => null,
                0x1000 => "a FIFO (named pipe)",
                0x2000 => "a character device",
                0x6000 => "a block device",
                0xC000 => "a socket",
                _ => "not a regular file",
            };
        }
        return File.Exists(path) && new FileInfo(path).Length == 0 ? "empty (0 bytes), or a pipe, socket or device" : null;
    }

    const int AtFdCwd = -100;
    const uint StatxType = 0x1;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    delegate int StatxFunction(int dirfd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

    /// <summary>glibc's <c>statx</c> (2.28 and later), or null where it is missing.</summary>
    static readonly Lazy<StatxFunction?> Statx = new(() =>
        NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "statx", out var address)
            ? Marshal.GetDelegateForFunctionPointer<StatxFunction>(address)
            : null);
}
