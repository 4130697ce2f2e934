using System.Text.Json;
using System.Text.Json.Serialization;
using LeNetTorchSharp;

namespace TrainMnist;

/// <summary>One epoch of a run, as written to <c>metrics.jsonl</c>.</summary>
public sealed record EpochMetrics(
    [property: JsonPropertyName("epoch")] int Epoch,
    [property: JsonPropertyName("train_loss")] double TrainLoss,
    [property: JsonPropertyName("test_loss")] double TestLoss,
    [property: JsonPropertyName("test_accuracy")] double TestAccuracy,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("samples_per_s")] double SamplesPerSecond,
    [property: JsonPropertyName("lr")] double LearningRate);

/// <summary>Appends one JSON object per epoch to a file (JSON lines), flushed at once so a killed run keeps every finished epoch.</summary>
public sealed class MetricsLog(string path)
{
    /// <summary>The log file.</summary>
    public string Path { get; } = path;

    /// <summary>Appends one epoch as one write of one whole line, flushed to the disk: a line is in the file whole or
    /// not at all, whatever else writes to it.</summary>
    public void Append(EpochMetrics metrics)
    {
        var line = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(metrics) + "\n");
        using var file = new FileStream(Path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1);
        file.Write(line);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Replaces the file with exactly <paramref name="epochs"/>, atomically.</summary>
    public void Rewrite(IEnumerable<EpochMetrics> epochs)
    {
        var lines = epochs.Select(e => JsonSerializer.Serialize(e)).ToList();
        AtomicFile.Write(Path, temp => File.WriteAllLines(temp, lines));
    }

    /// <summary>Every epoch in the file, skipping a last line cut short by a kill.</summary>
    public IReadOnlyList<EpochMetrics> Read()
    {
        if (!File.Exists(Path)) return [];
        var records = new List<EpochMetrics>();
        foreach (var line in File.ReadLines(Path))
        {
            try
            {
                if (JsonSerializer.Deserialize<EpochMetrics>(line) is { } record) records.Add(record);
            }
            catch (JsonException)
            {
                // A partial last line from an interrupted write: the epoch is redone after a resume.
            }
        }
        return records;
    }
}
