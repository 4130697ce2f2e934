namespace LeNetTorchSharp.Training;

/// <summary>The training loss became NaN or infinite; training stopped. The message says where and what to try.</summary>
public sealed class TrainingDivergedException(string message) : Exception(message);
