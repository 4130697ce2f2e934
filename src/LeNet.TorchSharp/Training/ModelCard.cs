using System.Globalization;
using System.Text.Json;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;

namespace LeNetTorchSharp.Training;

/// <summary>
/// What a weights file needs besides the weights to be used: the architecture, the dataset (so the class
/// names) and the input normalization. Stored in the safetensors <c>__metadata__</c>.
/// </summary>
public sealed record ModelCard(ModelKind Model, DatasetKind Dataset, double Mean, double Std)
{
    const string Prefix = "lenet-torchsharp.";

    /// <summary>The card as safetensors metadata strings.</summary>
    public IReadOnlyDictionary<string, string> ToMetadata() => new Dictionary<string, string>
    {
        [Prefix + "model"] = Model.ToString(),
        [Prefix + "dataset"] = Dataset.ToString(),
        [Prefix + "mean"] = Mean.ToString("R", CultureInfo.InvariantCulture),
        [Prefix + "std"] = Std.ToString("R", CultureInfo.InvariantCulture),
        [Prefix + "classes"] = JsonSerializer.Serialize(Dataset.Resources().Classes),
    };

    /// <summary>Reads a card back from metadata; null when the metadata holds none (e.g. a file made in Python).</summary>
    /// <exception cref="FormatException">The card is there but damaged.</exception>
    public static ModelCard? FromMetadata(IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        if (!metadata.TryGetValue(Prefix + "model", out var model)) return null;
        string Get(string key) => metadata.TryGetValue(Prefix + key, out var v) ? v : throw new FormatException($"the model card has no '{Prefix}{key}'");
        return new ModelCard(
            Enum.TryParse<ModelKind>(model, out var m) ? m : throw new FormatException($"unknown model '{model}'"),
            Enum.TryParse<DatasetKind>(Get("dataset"), out var d) ? d : throw new FormatException($"unknown dataset '{Get("dataset")}'"),
            double.Parse(Get("mean"), CultureInfo.InvariantCulture),
            double.Parse(Get("std"), CultureInfo.InvariantCulture));
    }
}
