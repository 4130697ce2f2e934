namespace LeNetTorchSharp.Training;

/// <summary>The training loss became NaN or infinite, so training stopped; the message says where and what to try.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
