using LeNetTorchSharp.Serialization;

namespace LeNetTorchSharp.Training;

/// <summary>What a checkpoint says about its run, readable without loading anything into a model.</summary>
/// <param name="Epochs">Epochs completed when it was written.</param>
/// <param name="Steps">Optimizer steps taken.</param>
/// <param name="Card">What the weights are (architecture, classes, normalization), where the run recorded it; else null.</param>
/// <param name="Run">The application's own description of the run (its recipe), as written; empty if none.</param>
public sealed record CheckpointInfo(int Epochs, long Steps, ModelCard? Card, IReadOnlyDictionary<string, string> Run);
