namespace LeNetTorchSharp.Inference;

/// <summary>The image a prediction is asked for is missing, is not an image, or holds no digit.</summary>
public sealed class ImageInputException(string path, string problem) : IOException($"{path}: {problem}")
{
    /// <summary>The offending file (or the name given to a picture held in memory).</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; } = problem;

    /// <summary>Whether the picture decoded but is blank: nothing stands out from its background (an empty canvas), as
    /// opposed to a file that is not a usable picture.</summary>
    public bool IsBlank { get; init; }
}
