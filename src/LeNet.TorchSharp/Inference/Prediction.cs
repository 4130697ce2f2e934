using static TorchSharp.torch;

namespace LeNetTorchSharp.Inference;

/// <summary>One prediction: the class probabilities, best first.</summary>
/// <param name="Input">The 28x28 image the model saw (uint8, 1 x 28 x 28), before resizing for LeNet.</param>
/// <param name="Probabilities">Probability per class, index = label.</param>
/// <param name="Classes">Class names.</param>
public sealed record Prediction(Tensor Input, float[] Probabilities, IReadOnlyList<string> Classes)
{
    /// <summary>The classes by probability, highest first.</summary>
    public IEnumerable<(string Class, int Label, float Probability)> Ranked =>
        Probabilities.Select((p, i) => (Classes[i], i, p)).OrderByDescending(x => x.p);
}
