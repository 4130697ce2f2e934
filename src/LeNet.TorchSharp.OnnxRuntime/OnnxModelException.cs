namespace LeNetTorchSharp.OnnxRuntime;

/// <summary>An ONNX file cannot be used: missing, damaged, of an opset ONNX Runtime does not run, without a model card,
/// or with inputs or outputs other than its card describes. The message names the file, what was expected and what
/// was found.</summary>
public sealed class OnnxModelException(string path, string problem, Exception? inner = null)
    : IOException($"{path}: {problem}", inner)
{
    /// <summary>The offending file.</summary>
    public string Path { get; } = path;

    /// <summary>What is wrong, without the file name.</summary>
    public string Problem { get; } = problem;
}
