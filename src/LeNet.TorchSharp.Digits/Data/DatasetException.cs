namespace LeNetTorchSharp.Data;

/// <summary>A dataset file is damaged or of another kind, or could not be downloaded. The message names the file
/// (or the dataset), what was expected and what was found; for a download, every address tried and how to get the
/// files by hand.</summary>
public sealed class DatasetException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: {problem}", inner)
{
    /// <summary>The offending file, or the folder a download was to fill.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; } = problem;
}
