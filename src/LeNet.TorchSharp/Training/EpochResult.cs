namespace LeNetTorchSharp.Training;

/// <summary>What one training epoch did.</summary>
/// <param name="Loss">Mean training loss over the epoch's samples.</param>
/// <param name="Samples">Samples seen.</param>
/// <param name="Elapsed">Wall-clock time of the epoch.</param>
/// <param name="LearningRate">Learning rate at the end of the epoch.</param>
public readonly record struct EpochResult(double Loss, long Samples, TimeSpan Elapsed, double LearningRate)
{
    /// <summary>Training throughput.</summary>
    public double SamplesPerSecond => Samples / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
