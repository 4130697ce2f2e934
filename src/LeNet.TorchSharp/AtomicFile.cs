using System.Diagnostics;

namespace LeNetTorchSharp;

/// <summary>Writes files so that a reader never sees half of one: a temporary file beside the target, then a rename.</summary>
public static class AtomicFile
{
    /// <summary>
    /// Calls <paramref name="write"/> with a temporary path in the target's folder, then renames it to
    /// <paramref name="path"/> (replacing any existing file). If writing fails, the temporary file is
    /// removed and an existing file at <paramref name="path"/> is left untouched.
    /// </summary>
    public static void Write(string path, Action<string> write)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = TemporaryPath(full, ".tmp");
        try
        {
            write(temp);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
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
