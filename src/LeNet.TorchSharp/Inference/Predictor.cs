using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Inference;

/// <summary>
/// A trained model ready to classify images, from any weights of LeNet or the MLP: a checkpoint, safetensors with
/// or without this library's model card, or a PyTorch <c>.pt</c> / <c>.pth</c> state dict.
/// </summary>
/// <remarks>
/// A model card (checkpoints, the trainer program's safetensors) says what the weights are. Without one, the
/// architecture is the one asked for, or else the one whose keys and shapes the weights have; the classes are
/// numbered (MNIST's digits for ten), and the normalization is the one asked for, else MNIST's statistics.
/// </remarks>
public sealed class Predictor : IDisposable
{
    /// <summary>The model, in evaluation mode.</summary>
    public nn.Module<Tensor, Tensor> Model { get; }

    /// <summary>What the model is and how its inputs are prepared.</summary>
    public ModelCard Card { get; }

    /// <summary>Whether <see cref="Card"/> came from the file (else it was assumed: see the remarks).</summary>
    public bool CardFromFile { get; }

    /// <summary>How the file's keys were matched to the model's where they are not its own names (a <c>module.</c>
    /// prefix dropped, or the tutorial's <c>nn.Sequential</c> read by order); null where they are.</summary>
    public string? KeyMapping { get; }

    Predictor(nn.Module<Tensor, Tensor> model, ModelCard card, bool cardFromFile, string? keyMapping)
    {
        Model = model;
        Card = card;
        CardFromFile = cardFromFile;
        KeyMapping = keyMapping;
        Model.eval();
    }

    /// <summary>Loads weights by their extension: <c>.ckpt</c>, <c>.safetensors</c>, <c>.pt</c> or <c>.pth</c>.</summary>
    /// <param name="path">The weights.</param>
    /// <param name="model">The architecture; needed only where the file has no model card and its keys do not tell.</param>
    /// <param name="normalization">The input normalization of weights without a model card; default <see cref="Normalize.MnistStatistics"/>.</param>
    /// <exception cref="ArgumentException">The extension is none of those; <paramref name="model"/> or <paramref name="normalization"/>
    /// contradicts the file's model card; or the file has no card, its keys and shapes are neither network's, and
    /// <paramref name="model"/> is not given (the exception's <c>ParamName</c> is then <c>model</c>).</exception>
    /// <exception cref="WeightsException">The file cannot be read, or does not fit the architecture.</exception>
    /// <exception cref="CheckpointException">A checkpoint that is damaged or of another version.</exception>
    public static Predictor Load(string path, ModelKind? model = null, Normalize? normalization = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (extension == ".onnx")
            throw new ArgumentException($"{path}: an exported ONNX model runs on ONNX Runtime: load it with OnnxPredictor (package LeNet.TorchSharp.OnnxRuntime); expected weights ending in .ckpt, {string.Join(", ", Weights.Extensions)} here.", nameof(path));
        if (extension != ".ckpt" && !Weights.Extensions.Contains(extension))
            throw new ArgumentException($"{path}: expected weights ending in .ckpt, {string.Join(", ", Weights.Extensions)}; found '{extension}'.", nameof(path));

        IReadOnlyList<KeyValuePair<string, Tensor>> tensors;
        ModelCard? found = null;
        if (extension == ".ckpt")
        {
            (tensors, found) = Checkpoint.ReadWeights(path);
        }
        else if (extension == ".safetensors")
        {
            var contents = Safetensors.Load(path);
            tensors = contents.Tensors;
            try
            {
                found = ModelCard.FromMetadata(contents.Metadata);
            }
            catch (FormatException e)
            {
                contents.Dispose();
                throw new WeightsException(path, $"the model card in the metadata is damaged ({e.Message})", e);
            }
        }
        else
        {
            tensors = PyTorchWeights.Load(path);
        }

        try
        {
            var card = found is not null
                ? Agreeing(found, model, normalization, path)
                : Assumed(model ?? Recognize(tensors, path), OutputClasses(tensors), normalization ?? Normalize.MnistStatistics);
            var net = card.Model.Create(card.Classes.Count);
            try
            {
                var mapping = StateDict.CopyInto(net, tensors, path);
                return new Predictor(net, card, cardFromFile: found is not null, mapping);
            }
            catch
            {
                net.Dispose();
                throw;
            }
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }

    /// <summary>The file's card, refusing a model kind or normalization that contradicts it.</summary>
    static ModelCard Agreeing(ModelCard card, ModelKind? model, Normalize? normalization, string path)
    {
        if (model is { } kind && kind != card.Model)
            throw new ArgumentException($"{path}: the file's model card says {card.Model}, not {kind}.", nameof(model));
        if (normalization is { } n && (n.Mean != card.Mean || n.Std != card.Std))
            throw new ArgumentException($"{path}: the file's model card says normalization mean {card.Mean}, std {card.Std}, not mean {n.Mean}, std {n.Std}.", nameof(normalization));
        return card;
    }

    /// <summary>A card for weights that have none: numbered classes (MNIST's digits for ten).</summary>
    static ModelCard Assumed(ModelKind model, int classes, Normalize normalization)
    {
        string[] names = classes == 10 ? [.. MnistResources.Mnist.Classes] : [.. Enumerable.Range(0, classes).Select(i => i.ToString())];
        return ModelCard.Validated(new ModelCard(model, "unknown (no model card)", names, normalization.Mean, normalization.Std));
    }

    /// <summary>The classes the weights' output layer gives: the rows of the last two-dimensional tensor in the file.</summary>
    static int OutputClasses(IReadOnlyList<KeyValuePair<string, Tensor>> tensors) =>
        tensors.LastOrDefault(t => t.Value.dim() == 2).Value?.shape[0] is long rows and > 1 and < 100_000 ? (int)rows : 10;

    /// <summary>The network whose parameters (by name or by order, any number of classes) the weights are.</summary>
    static ModelKind Recognize(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string path)
    {
        var classes = OutputClasses(tensors);
        foreach (var kind in Enum.GetValues<ModelKind>())
        {
            using var candidate = kind.Create(classes);
            if (StateDict.Fits(candidate, tensors)) return kind;
        }
        throw new ArgumentException(
            $"{path}: cannot tell the architecture: the weights' keys and shapes ({string.Join(", ", tensors.Select(t => $"{t.Key} {StateDict.Shape(t.Value.shape)}"))}) " +
            "are neither LeNet's nor the MLP's with their default sizes; name the architecture", "model");
    }

    /// <summary>Class probabilities for 28x28 MNIST-style images (uint8: 28 x 28, 1 x 28 x 28, or N x 1 x 28 x 28 for a
    /// batch), as <see cref="DigitImage"/> and MNIST's files hold them.</summary>
    /// <returns>N x classes probabilities, row-major (N = 1 for a single image).</returns>
    /// <exception cref="ArgumentException">The images are not uint8 of one of those shapes.</exception>
    /// <exception cref="InvalidOperationException">The model's output is not finite (its weights were changed to hold NaN or infinity).</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public float[] Probabilities(Tensor digits)
    {
        ArgumentNullException.ThrowIfNull(digits);
        ObjectDisposedException.ThrowIf(disposed, this);
        var shape = digits.shape;
        var fits = shape.SequenceEqual([1L, 28, 28]) || shape.SequenceEqual([28L, 28]) || shape is [> 0, 1, 28, 28];
        if (digits.dtype != ScalarType.Byte || !fits)
            throw new ArgumentException($"expected uint8 MNIST-style digits of shape [28, 28], [1, 28, 28] or [N, 1, 28, 28] (DigitImage.Load makes one); received {digits.dtype} {StateDict.Shape(shape)}.", nameof(digits));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var images = digits.reshape(-1, 1, 28, 28);
        // The same conversion the dataset applies: resized as bytes, then [0, 1], then normalized.
        // Scalars disposed here rather than implicit conversions left to the finalizer, which a collection started by
        // another request's thread can run while libtorch reads them (see Trainer.TrainEpoch).
        using var byteRange = 255.ToScalar();
        using var mean = Card.Mean.ToScalar();
        using var std = Card.Std.ToScalar();
        var x = MNIST.ResizeImages(images, Card.Model.ImageSize()).to(ScalarType.Float32).div_(byteRange).sub_(mean).div_(std);
        var probabilities = nn.functional.softmax(Model.call(x), 1).flatten().data<float>().ToArray();
        if (!probabilities.All(float.IsFinite))
            throw new InvalidOperationException($"{Card.Model}'s output is not finite: its weights hold NaN or infinite values, and give no answer.");
        return probabilities;
    }

    /// <summary>Reads an image file, prepares it like MNIST (<see cref="DigitImage"/>), and classifies it.</summary>
    /// <exception cref="ImageInputException">The file is missing, not an image, damaged, or blank.</exception>
    public Prediction Predict(string imagePath)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var input = DigitImage.Load(imagePath);
        return new Prediction(input, Probabilities(input), Card.Classes);
    }

    bool disposed;

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Model.Dispose();
    }
}
