namespace LeNetTorchSharp.Inference;

/// <summary>The image a prediction is asked for is missing or is not an image.</summary>
public sealed class ImageInputException(string path, string problem) : IOException($"{path}: {problem}")
{
    /// <summary>The offending file.</summary>
    public string Path { get; } = path;
}
