namespace LeNetTorchSharp;

/// <summary>
/// Opens a file the user named, turning what the file system says (missing, a directory, no permission) into one
/// sentence for the caller's own exception, which names the file.
/// </summary>
internal static class InputFile
{
    /// <summary>Opens <paramref name="path"/> for reading.</summary>
    /// <param name="path">The file.</param>
    /// <param name="error">Makes the caller's exception from the path and the problem, e.g. <c>(p, m) => new WeightsException(p, m)</c>.</param>
    public static FileStream OpenRead(string path, Func<string, string, Exception> error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Directory.Exists(path)) throw error(path, "is a directory; expected a file");
        if (!File.Exists(path)) throw error(path, "no such file");
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

    /// <summary>Reads all of <paramref name="path"/>, with the same errors as <see cref="OpenRead"/>.</summary>
    public static byte[] ReadAllBytes(string path, Func<string, string, Exception> error)
    {
        using var stream = OpenRead(path, error);
        using var buffer = new MemoryStream();
        try
        {
            stream.CopyTo(buffer);
        }
        catch (IOException e)
        {
            throw error(path, $"cannot be read ({e.Message})");
        }
        return buffer.ToArray();
    }
}
