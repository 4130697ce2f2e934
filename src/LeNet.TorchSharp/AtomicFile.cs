using System.Diagnostics;

namespace LeNetTorchSharp;

/// <summary>Writes files so that a reader never sees half of one: a temporary file beside the target, then a rename.</summary>
internal static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> with a temporary path in the target's folder, then renames it to
    /// <paramref name="path"/> (replacing any existing file). If writing fails, the temporary file is
    /// removed and an existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    /// <exception cref="IOException">The folder cannot be written to (permission denied, a file in the way, a full
    /// disk), or <paramref name="path"/> is a directory; the message names the path.</exception>
    public static void Write(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new IOException($"{path}: is a directory; expected a file to write");
        // Directory.CreateDirectory would say only "already exists" of a file where a folder should be.
        for (var folder = Path.GetDirectoryName(full); folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
            if (File.Exists(folder)) throw new IOException($"{path}: cannot be written: {folder} is a file, not a folder");
        var temp = TemporaryPath(full, ".tmp");
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{path}: cannot write: permission denied", e);
        }
        catch (IOException e) when (e.GetType().Namespace?.StartsWith("System", StringComparison.Ordinal) == true)
        {
            // The system's words (a full disk, a path too long) name no file; this library's own exceptions do.
            throw new IOException($"{path}: cannot be written ({e.Message})", e);
        }
        finally
        {
            DeleteIfPossible(temp);
        }
    }

    /// <summary>
    /// Throws unless files can be written in <paramref name="folder"/>, or, while it does not exist, it can be created:
    /// checked before long work, so that a run does not learn only at its end that it cannot save. Leaves nothing behind.
    /// </summary>
    /// <exception cref="IOException">It cannot; the message names the folder and why.</exception>
    public static void CheckWritable(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new IOException($"{folder}: is a file; expected a folder");
        // The folder, or the nearest existing one it would be created in.
        var existing = full;
        while (!Directory.Exists(existing))
        {
            var parent = Path.GetDirectoryName(existing);
            if (parent is null || File.Exists(parent)) throw new IOException($"{folder}: cannot be created: {parent} is a file");
            existing = parent;
        }
        var probe = TemporaryPath(Path.Combine(existing, "probe"), ".tmp");
        try
        {
            File.WriteAllBytes(probe, []);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{folder}: cannot write there: permission denied", e);
        }
        catch (IOException e)
        {
            throw new IOException($"{folder}: cannot write there ({e.Message})", e);
        }
        finally
        {
            DeleteIfPossible(probe);
        }
    }

    /// <summary>Removes a temporary file this class made, if it is there and may be removed.</summary>
    static void DeleteIfPossible(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // It was never written, or the folder forbids it; what went wrong is thrown by the caller.
        }
    }

    /// <summary>
    /// A temporary name beside <paramref name="path"/>: hidden, unique, and carrying this process's id so that
    /// <see cref="RemoveAbandoned"/> can tell a file a killed writer left from one being written now.
    /// </summary>
    public static string TemporaryPath(string path, string extension) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}{extension}");

    /// <summary>
    /// Deletes the temporary files (<see cref="TemporaryPath"/>, with <paramref name="extension"/>) in
    /// <paramref name="folder"/> whose writing process no longer runs: what a kill during a save leaves.
    /// </summary>
    /// <returns>How many were deleted.</returns>
    public static int RemoveAbandoned(string folder, string extension = ".tmp")
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) return 0;
        var removed = 0;
        foreach (var file in Directory.EnumerateFiles(folder, "." + "*" + extension))
        {
            // .{name}.{pid}.{guid}{extension}
            var parts = Path.GetFileName(file)[..^extension.Length].Split('.');
            if (parts.Length < 4 || !int.TryParse(parts[^2], out var pid) || IsRunning(pid)) continue;
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (IOException)
            {
                // Another cleaner got there first.
            }
        }
        return removed;
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="path"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, temp => File.WriteAllBytes(temp, copy));
    }
}
