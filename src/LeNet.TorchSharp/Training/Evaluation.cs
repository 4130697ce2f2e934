namespace LeNetTorchSharp.Training;

/// <summary>A model's score on a labelled set.</summary>
/// <param name="Loss">Mean loss per sample.</param>
/// <param name="Correct">Samples whose highest logit is the label.</param>
/// <param name="Samples">Samples evaluated.</param>
/// <param name="Elapsed">Wall-clock time of the evaluation.</param>
public readonly record struct Evaluation(double Loss, long Correct, long Samples, TimeSpan Elapsed)
{
    /// <summary>Fraction correct, 0 to 1.</summary>
    public double Accuracy => Samples == 0 ? 0 : (double)Correct / Samples;

    /// <summary>Evaluation throughput.</summary>
    public double SamplesPerSecond => Samples / Math.Max(Elapsed.TotalSeconds, 1e-9);
}
