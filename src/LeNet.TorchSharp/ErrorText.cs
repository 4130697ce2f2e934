namespace LeNetTorchSharp;

/// <summary>Other libraries' messages, cut to what fits into one of ours.</summary>
internal static class ErrorText
{
    const int MaxLength = 500;

    /// <summary>The first line of <paramref name="message"/>, trimmed: libtorch's and the unpickler's messages go on
    /// with C++ frames or Python context that would bury the sentence that matters.</summary>
    public static string FirstLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.Length > MaxLength ? line[..MaxLength] + "…" : line;
    }
}
