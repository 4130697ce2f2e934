using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using TorchSharp;
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

/// <summary>
/// A trained model ready to classify images: loaded from the trainer's <c>model.safetensors</c> (whose metadata
/// names the architecture, dataset and normalization) or from a checkpoint.
/// </summary>
public sealed class Predictor : IDisposable
{
    /// <summary>The model, in evaluation mode.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>What the model is and how its inputs are prepared.</summary>
    public ModelCard Card { get; }

    Predictor(nn.Module<Tensor, Tensor> model, ModelCard card)
    {
        Model = model;
        Card = card;
        Model.eval();
    }

    /// <summary>Loads a model file: safetensors with a <see cref="ModelCard"/>, or a <c>.ckpt</c> checkpoint.</summary>
    /// <exception cref="SafetensorsException">A weights file that is malformed, has no model card, or does not fit its architecture.</exception>
    /// <exception cref="CheckpointException">A checkpoint that is damaged or of another version.</exception>
    public static Predictor Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new SafetensorsException(path, "no such file");
        if (IsZip(path))
        {
            var card = Checkpoint.Read(path).Card;
            var model = card.Model.Create(card.Classes.Count);
            Checkpoint.LoadWeights(path, model);
            return new Predictor(model, card);
        }

        using var contents = Safetensors.Load(path);
        ModelCard? found;
        try
        {
            found = ModelCard.FromMetadata(contents.Metadata);
        }
        catch (FormatException e)
        {
            throw new SafetensorsException(path, $"the model card in the metadata is damaged ({e.Message})");
        }
        var weightsCard = found ?? throw new SafetensorsException(path,
            "expected weights saved by the trainer (metadata naming the model, dataset and normalization), found none; " +
            "load plain weights into a model with Safetensors.LoadModel instead");
        var net = weightsCard.Model.Create(weightsCard.Classes.Count);
        Safetensors.CopyInto(net, contents.Tensors, path);
        return new Predictor(net, weightsCard);
    }

    static bool IsZip(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return file.Read(magic) == 4 && magic.SequenceEqual("PK\u0003\u0004"u8);
    }

    /// <summary>Class probabilities for a 28x28 MNIST-style image (uint8, 1 x 28 x 28 or 28 x 28).</summary>
    public float[] Probabilities(Tensor digit)
    {
        ArgumentNullException.ThrowIfNull(digit);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = digit.reshape(1, 1, 28, 28);
        var size = Card.Model.ImageSize();
        // The same conversion the dataset applies: resized as bytes, then [0, 1], then normalized.
        var x = MNIST.ResizeImages(images, size).to(ScalarType.Float32).div_(255);
        x = new Normalize(Card.Mean, Card.Std).Apply(x);
        return nn.functional.softmax(Model.call(x), 1).flatten().data<float>().ToArray();
    }

    /// <summary>Reads an image file, prepares it like MNIST (<see cref="DigitImage"/>), and classifies it.</summary>
    /// <exception cref="ImageInputException">The file is missing, not an image, or blank.</exception>
    public Prediction Predict(string imagePath)
    {
        var input = DigitImage.Load(imagePath);
        return new Prediction(input, Probabilities(input), Card.Classes);
    }

    /// <summary>Releases the model.</summary>
    public void Dispose() => Model.Dispose();
}
