namespace LeNetTorchSharp.Serialization;

/// <summary>A weights file cannot be read, or does not fit the model it is loaded into. The message names the
/// file, what was expected and what was found.</summary>
public class WeightsException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: {problem}", inner)
{
    /// <summary>The offending file.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; } = problem;
}
