namespace LeNetTorchSharp.Data;

/// <summary>A dataset file is not what it should be. <see cref="Exception.Message"/> names the file,
/// what was expected and what was found.</summary>
public sealed class DatasetFormatException(string path, string problem)
    : IOException($"{path}: {problem}")
{
    /// <summary>The offending file.</summary>
    public string Path { get; } = path;
}
