namespace LeNetTorchSharp.Training;

/// <summary>Progress within an epoch, reported every <see cref="Trainer.LogEvery"/> batches and at the end.</summary>
/// <param name="Batch">Batches done in this epoch.</param>
/// <param name="Batches">Batches in the epoch, when the batches say how many (a <see cref="Data.TensorDataLoader"/> does); else null.</param>
/// <param name="Samples">Samples done in this epoch.</param>
/// <param name="Loss">Mean loss so far in this epoch.</param>
/// <param name="Elapsed">Time since the epoch started.</param>
public readonly record struct StepProgress(long Batch, int? Batches, long Samples, double Loss, TimeSpan Elapsed);
