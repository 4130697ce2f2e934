namespace LeNetTorchSharp.Training;

/// <summary>A checkpoint could not be read or does not fit the run it is loaded into. The message names the file,
/// what was expected and what was found.</summary>
public sealed class CheckpointException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: {problem}", inner)
{
    /// <summary>The offending file.</summary>
    public string Path { get; } = path;
}
