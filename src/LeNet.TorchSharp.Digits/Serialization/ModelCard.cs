using System.Globalization;
using System.Text.Json;
using LeNetTorchSharp.Models;

namespace LeNetTorchSharp.Serialization;

/// <summary>
/// What weights need beside the tensors to be used on a new image: the architecture, the class names and the
/// input normalization. Stored in a safetensors file's <c>__metadata__</c> and in every checkpoint.
/// </summary>
/// <param name="Model">The architecture (default sizes).</param>
/// <param name="Dataset">The dataset the weights were trained on, e.g. "MNIST".</param>
/// <param name="Classes">Class names, index = label.</param>
/// <param name="Mean">Mean subtracted from pixels in [0, 1].</param>
/// <param name="Std">Standard deviation the pixels are then divided by.</param>
public sealed record ModelCard(ModelKind Model, string Dataset, IReadOnlyList<string> Classes, double Mean, double Std)
{
    const string Prefix = "lenet-torchsharp.";

    /// <summary>The weights' accuracy on the dataset's test set when they were saved (0 to 1), where the trainer knew it;
    /// an app shows it beside the model.</summary>
    public double? TestAccuracy { get; init; }

    /// <summary>The side of the square images <paramref name="kind"/> takes: 32 for LeNet (MNIST's 28 resized), 28 for the MLP.</summary>
    public static int ImageSize(ModelKind kind) => kind switch
    {
        ModelKind.LeNet => 32,
        ModelKind.Mlp => 28,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind."),
    };

    /// <summary>The shape of one sample of <paramref name="kind"/>'s input, as an exported model declares it after the
    /// batch dimension: 1 x 32 x 32 for LeNet, 784 (28x28 flattened) for the MLP.</summary>
    public static int[] InputShape(ModelKind kind) => kind switch
    {
        ModelKind.LeNet => [1, ImageSize(kind), ImageSize(kind)],
        ModelKind.Mlp => [ImageSize(kind) * ImageSize(kind)],
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind."),
    };

    /// <summary>The card as safetensors metadata strings.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        [Prefix + "model"] = Model.ToString(),
        [Prefix + "dataset"] = Dataset,
        [Prefix + "classes"] = JsonSerializer.Serialize(Classes),
        [Prefix + "mean"] = Mean.ToString("R", CultureInfo.InvariantCulture),
        [Prefix + "std"] = Std.ToString("R", CultureInfo.InvariantCulture),
        // Derived from the model, written for readers in other languages (an app on ONNX Runtime in Python or a browser).
        [Prefix + "input_shape"] = JsonSerializer.Serialize(InputShape(Model)),
    }.Concat(TestAccuracy is { } accuracy
        ? [new KeyValuePair<string, string>(Prefix + "test_accuracy", accuracy.ToString("R", CultureInfo.InvariantCulture))]
        : []).ToDictionary();

    /// <summary>Reads a card back from metadata; null when the metadata holds none (e.g. a file made in Python).</summary>
    /// <exception cref="FormatException">The card is there but damaged; the message names the field.</exception>
    public static ModelCard? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(Prefix + "model", out var model)) return null;
        string Get(string key) => metadata.TryGetValue(Prefix + key, out var v) ? v : throw new FormatException($"the model card has no '{Prefix}{key}'");
        string[]? classes;
        try
        {
            classes = JsonSerializer.Deserialize<string[]>(Get("classes"));
        }
        catch (JsonException e)
        {
            throw new FormatException($"'{Prefix}classes' is not a JSON list of names ({e.Message})", e);
        }
        var kind = Enum.TryParse<ModelKind>(model, out var m) && Enum.IsDefined(m) ? m : throw new FormatException($"unknown model '{model}'");
        if (metadata.TryGetValue(Prefix + "input_shape", out var shape) && shape.Replace(" ", "") != JsonSerializer.Serialize(InputShape(kind)))
            throw new FormatException($"'{Prefix}input_shape' is {shape}; {kind} takes {JsonSerializer.Serialize(InputShape(kind))}");
        return Validated(new ModelCard(
            kind,
            Get("dataset"),
            classes ?? throw new FormatException($"'{Prefix}classes' is empty"),
            Number(Get("mean"), "mean"),
            Number(Get("std"), "std"))
        {
            TestAccuracy = metadata.TryGetValue(Prefix + "test_accuracy", out var accuracy) ? Number(accuracy, "test_accuracy") : null,
        });
    }

    /// <summary>Throws unless the card can describe usable weights (read back from a file, it may not).</summary>
    /// <exception cref="FormatException">No classes, a blank class name, or a mean or std that is not a usable number.</exception>
    public static ModelCard Validated(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (card.Classes is null || card.Classes.Count < 2 || card.Classes.Any(string.IsNullOrWhiteSpace))
            throw new FormatException("the model card needs at least two class names, none blank");
        if (card.TestAccuracy is { } accuracy && !(accuracy >= 0 && accuracy <= 1))
            throw new FormatException($"the model card's test accuracy must be from 0 to 1; found {accuracy}");
        if (!double.IsFinite(card.Mean) || !double.IsFinite(card.Std) || card.Std <= 0)
            throw new FormatException($"the model card's normalization must be a finite mean and a positive std; found mean {card.Mean}, std {card.Std}");
        return card;
    }

    static double Number(string text, string key) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"'{Prefix}{key}' is not a number: '{text}'");
}
