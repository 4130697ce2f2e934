namespace TrainMnist;

/// <summary>
/// One run per run folder: an exclusive lock on <c>run.lock</c> in it, held while the run writes there. The lock is the
/// operating system's (a file opened without sharing: <c>flock</c> on Linux and macOS), so the kernel releases it
/// when the process ends in any way, and the next run takes the folder over from a killed one.
/// </summary>
public sealed class RunLock : IDisposable
{
    /// <summary>The lock file's name in a run folder.</summary>
    public const string FileName = "run.lock";

    readonly FileStream file;
    readonly string path;
    readonly bool madeFolder;

    RunLock(FileStream file, string path, bool madeFolder) => (this.file, this.path, this.madeFolder) = (file, path, madeFolder);

    /// <summary>Takes the lock of <paramref name="folder"/>, creating the folder if needed.</summary>
    /// <param name="folder">The run folder.</param>
    /// <param name="name">How errors name the folder, e.g. <c>--out runs/a</c>.</param>
    /// <exception cref="IOException">Another live process holds it.</exception>
    public static RunLock Take(string folder, string name)
    {
        var madeFolder = !Directory.Exists(folder);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, FileName);
        try
        {
            var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            file.SetLength(0);
            file.Write(System.Text.Encoding.UTF8.GetBytes($"{Environment.ProcessId}\n"));
            file.Flush();
            return new RunLock(file, path, madeFolder);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new IOException($"{name}: another run is writing into this folder (it holds {FileName}); wait for it to end, or choose another folder.", e);
        }
    }

    /// <summary>Releases the lock and removes its file, and the folder where the lock made it and nothing was written
    /// there (a run refused after taking the lock leaves nothing behind).</summary>
    public void Dispose()
    {
        file.Dispose();
        try
        {
            File.Delete(path);
            var folder = Path.GetDirectoryName(path)!;
            if (madeFolder && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
        }
        catch (IOException)
        {
            // Another run took the folder over in between: its lock, its file.
        }
    }
}
