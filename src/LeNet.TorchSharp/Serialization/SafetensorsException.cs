namespace LeNetTorchSharp.Serialization;

/// <summary>A safetensors file is malformed. The message names the file, what was expected and what was found.</summary>
public sealed class SafetensorsException(string path, string problem, Exception? inner = null)
    : WeightsException(path, problem, inner);
