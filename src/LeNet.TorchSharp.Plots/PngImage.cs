namespace LeNetTorchSharp.Plots;

/// <summary>A figure encoded as PNG: written to a file, or shown inline where a notebook displays <c>image/png</c>.</summary>
/// <param name="Bytes">The PNG file's bytes.</param>
public sealed record PngImage(byte[] Bytes)
{
    /// <summary>Writes the PNG to <paramref name="path"/>, atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllBytes(path, Bytes);

    /// <summary>The bytes as base64, the form notebooks keep <c>image/png</c> outputs in.</summary>
    public string ToBase64() => Convert.ToBase64String(Bytes);
}
