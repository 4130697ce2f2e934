namespace LeNetTorchSharp.OnnxRuntime;

/// <summary>One picture classified by an exported model: the class probabilities, best first.</summary>
/// <param name="Input">The 28x28 MNIST-style digit the model saw (row-major bytes), before resizing for LeNet.</param>
/// <param name="Probabilities">Probability per class, index = label.</param>
/// <param name="Classes">Class names.</param>
public sealed record DigitPrediction(byte[] Input, float[] Probabilities, IReadOnlyList<string> Classes)
{
    /// <summary>The classes by probability, highest first.</summary>
    public IEnumerable<(string Class, int Label, float Probability)> Ranked =>
        Probabilities.Select((p, i) => (Classes[i], i, p)).OrderByDescending(x => x.p);
}
