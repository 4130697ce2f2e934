using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Serialization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Training;

/// <summary>
/// Saves and restores everything a training run needs to continue as if never stopped: the model's weights,
/// the optimizer's state (momentum buffers…), the scheduler's position, the batch order's generator, torch's
/// RNG and the epoch and step counts, with the application's run description and, optionally, a <see cref="ModelCard"/>.
/// Any model works: the weights are its <c>state_dict()</c>.
/// </summary>
/// <remarks>
/// A checkpoint is one zip file: <c>checkpoint.json</c> (format, version, counts, card, run description and the
/// SHA-256 of every other entry), <c>model.safetensors</c> (PyTorch's keys, readable by any safetensors reader),
/// <c>optimizer.bin</c> (TorchSharp's optimizer state), <c>rng.safetensors</c> and, for a trainer with an
/// <see cref="Trainer.Average"/>, <c>average.safetensors</c> (the averaged weights, which <see cref="LoadWeights"/>
/// gives for predictions, since they are what was evaluated). It is written to a temporary file and renamed, so a
/// kill during a save leaves the previous checkpoint intact.
/// </remarks>
public static class Checkpoint
{
    /// <summary>The format name in <c>checkpoint.json</c>.</summary>
    public const string Format = "lenet-torchsharp-checkpoint";

    /// <summary>The largest checkpoint read: far above any this library writes, far below what would exhaust memory.</summary>
    const long MaxFileBytes = 2L << 30;

    /// <summary>The format version this library writes and reads.</summary>
    public const int Version = 2;

    static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter() } };

    // Sha256: the SHA-256 of every other entry, checked before any entry is parsed, so a damaged file never
    // reaches TorchSharp's optimizer-state reader, which trusts the sizes it reads.
    // Optimizer: its kind and settings, checked against the trainer a checkpoint is loaded into (absent from checkpoints
    // written before it was recorded).
    sealed record Header(string Format, int Version, int Epochs, long Steps, ModelCard? Card, Dictionary<string, string> Run,
        Dictionary<string, string> Sha256, Dictionary<string, string>? Optimizer = null, long? AverageUpdates = null);

    const string ModelEntry = "model.safetensors";
    const string AverageEntry = "average.safetensors";

    /// <summary>Writes a checkpoint of <paramref name="trainer"/> (and the batch order of <paramref name="loader"/>) to <paramref name="path"/>, atomically.</summary>
    /// <param name="path">The file to write; an existing one is replaced only once the new one is complete.</param>
    /// <param name="trainer">Its model, optimizer and counters are saved.</param>
    /// <param name="loader">The training loader, whose shuffling state is saved; null if there is none.</param>
    /// <param name="card">What the weights are, for whoever predicts with them later (LeNet and the MLP); null for any other model.</param>
    /// <param name="run">The application's description of the run (its recipe), returned as is by <see cref="Read"/>.</param>
    /// <exception cref="InvalidOperationException">The trainer's average is applied, so the model does not hold the trained weights.</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public static void Save(string path, Trainer trainer, TensorDataLoader? loader = null, ModelCard? card = null, IReadOnlyDictionary<string, string>? run = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ObjectDisposedException.ThrowIf(trainer.IsDisposed, trainer);
        try
        {
            if (card is not null) ModelCard.Validated(card);
        }
        catch (FormatException e)
        {
            throw new ArgumentException(e.Message, nameof(card), e);
        }
        if (trainer.Average is { IsApplied: true })
            throw new InvalidOperationException("the trainer's average is applied to the model: save the checkpoint after the Applied() scope, so that it holds the trained weights.");
        var entries = new Dictionary<string, byte[]>
        {
            [ModelEntry] = Bytes(stream => Safetensors.Save(stream, trainer.Model.state_dict())),
            ["optimizer.bin"] = OptimizerState(Bytes(stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                Helper(trainer, path).save_state_dict(writer);
            }), nameof(TorchSharp.Modules.SGD), when: trainer.Optimizer is FusedSGD),
            ["rng.safetensors"] = Bytes(stream =>
            {
                using var scope = NewDisposeScope();
                var rng = new Dictionary<string, Tensor> { ["torch"] = TorchRng.GetState() };
                if (loader?.GetShuffleState() is { } shuffle) rng["shuffle"] = shuffle;
                Safetensors.Save(stream, rng);
            }),
        };
        if (trainer.Average is { } average) entries[AverageEntry] = Bytes(stream => Safetensors.Save(stream, average.Tensors));
        var header = new Header(Format, Version, trainer.EpochsCompleted, trainer.StepsTaken, card,
            new Dictionary<string, string>(run ?? new Dictionary<string, string>()), entries.ToDictionary(e => e.Key, e => Hash(e.Value)),
            new Dictionary<string, string>(trainer.OptimizerSetup), trainer.Average?.Updates);
        AtomicFile.Write(path, temp =>
        {
            using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            using var zip = new ZipArchive(file, ZipArchiveMode.Create);
            using (var entry = zip.CreateEntry("checkpoint.json").Open())
                JsonSerializer.Serialize(entry, header, Json);
            foreach (var (name, bytes) in entries)
                using (var entry = zip.CreateEntry(name).Open())
                    entry.Write(bytes);
        });
    }

    static byte[] Bytes(Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        write(buffer);
        return buffer.ToArray();
    }

    static string Hash(byte[] bytes) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));

    /// <summary>Reads what a checkpoint says about its run (to build the model and optimizer it fits before loading it).</summary>
    /// <exception cref="CheckpointException">The file is not a checkpoint of this format and version, or is damaged.</exception>
    public static CheckpointInfo Read(string path)
    {
        using var zip = Open(path);
        return Info(ReadHeader(zip, path));
    }

    /// <summary>
    /// Restores a checkpoint into a fresh trainer (same architecture, same kind of optimizer and scheduler, built as
    /// for the original run) and its training loader: weights, optimizer state, scheduler position, RNGs, counts, and the
    /// weight average if the trainer has one.
    /// </summary>
    /// <exception cref="CheckpointException">The file is damaged, of another format or version, or holds another
    /// architecture (the message names the parameter and both shapes).</exception>
    /// <exception cref="InvalidOperationException">The trainer has already trained.</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public static CheckpointInfo Load(string path, Trainer trainer, TensorDataLoader? loader = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ObjectDisposedException.ThrowIf(trainer.IsDisposed, trainer);
        if (trainer.StepsTaken != 0 || trainer.EpochsCompleted != 0)
            throw new InvalidOperationException("load a checkpoint into a trainer that has not trained yet: its scheduler and counters start from the checkpoint's.");
        using var zip = Open(path);
        var header = ReadHeader(zip, path);
        try
        {
            var optimizer = Verified(zip, header, "optimizer.bin", path);
            var rngBytes = Verified(zip, header, "rng.safetensors", path);
            LoadModel(zip, header, ModelEntry, trainer.Model, path);
            // After the architecture (the more basic difference), before anything of the optimizer is restored.
            if (header.Optimizer is { } saved && Differences(saved, trainer.OptimizerSetup) is { Count: > 0 } differences)
                throw new CheckpointException(path, $"the checkpoint's optimizer ({saved.GetValueOrDefault("type")}) was set up otherwise than this trainer's ({trainer.OptimizerSetup["type"]}): " +
                    $"{string.Join("; ", differences)}; build the trainer's optimizer (and average) with the checkpoint's settings");
            if (trainer.Average is { } average)
            {
                if (header.AverageUpdates is not { } updates || updates < 0)
                    throw new CheckpointException(path, "the checkpoint holds no weight average; resume it with a trainer without Average");
                using var averaged = Safetensors.Load(Verified(zip, header, AverageEntry, path), path);
                average.Restore(averaged.Tensors, updates);
            }
            trainer.Restore(header.Steps, header.Epochs);
            using (var reader = new BinaryReader(new MemoryStream(OptimizerState(optimizer, nameof(FusedSGD), when: trainer.Optimizer is FusedSGD))))
                Helper(trainer, path).load_state_dict(reader);
            using var rng = Safetensors.Load(rngBytes, path);
            TorchRng.SetState(rng["torch"]);
            if (loader is not null && rng.Tensors.Any(t => t.Key == "shuffle")) loader.SetShuffleState(rng["shuffle"]);
        }
        catch (WeightsException e)
        {
            throw new CheckpointException(path, e.Problem, e);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or ArgumentException or KeyNotFoundException or InvalidOperationException or OverflowException)
        {
            throw new CheckpointException(path, $"the checkpoint's optimizer, average or RNG state cannot be restored ({e.Message})", e);
        }
        return Info(header);
    }

    /// <summary>Loads only the model weights of a checkpoint into <paramref name="model"/> (for predictions): the averaged weights where it has them.</summary>
    /// <exception cref="CheckpointException">The file is damaged, of another format or version, or holds another architecture.</exception>
    public static CheckpointInfo LoadWeights(string path, nn.Module model)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var zip = Open(path);
        var header = ReadHeader(zip, path);
        LoadModel(zip, header, WeightsEntry(header), model, path);
        return Info(header);
    }

    /// <summary>The checkpoint's weights for predictions (the average where it has one) under their <c>state_dict</c> keys (the caller disposes them) and its card, if any.</summary>
    /// <exception cref="CheckpointException">The file is damaged or of another format or version.</exception>
    internal static (IReadOnlyList<KeyValuePair<string, Tensor>> Tensors, ModelCard? Card) ReadWeights(string path)
    {
        using var zip = Open(path);
        var header = ReadHeader(zip, path);
        try
        {
            return (Safetensors.Load(Verified(zip, header, WeightsEntry(header), path), path).Tensors, header.Card);
        }
        catch (WeightsException e)
        {
            throw new CheckpointException(path, e.Problem, e);
        }
    }

    /// <summary>The settings that differ, in words: "momentum 0.9 in the checkpoint, 0 here".</summary>
    static List<string> Differences(Dictionary<string, string> saved, IReadOnlyDictionary<string, string> mine) =>
        [.. saved.Keys.Union(mine.Keys).Order(StringComparer.Ordinal)
            .Where(k => saved.GetValueOrDefault(k) != mine.GetValueOrDefault(k))
            .Select(k => $"{(k.Contains('.') ? k[(k.IndexOf('.') + 1)..] : k)} {saved.GetValueOrDefault(k) ?? "absent"} in the checkpoint, {mine.GetValueOrDefault(k) ?? "absent"} here")];

    /// <summary>
    /// TorchSharp's optimizer state with the optimizer's name it starts with set to <paramref name="name"/> (when
    /// <paramref name="when"/>): <see cref="FusedSGD"/> is SGD with SGD's state, so its checkpoints are written under
    /// SGD's name and an SGD checkpoint resumes into it; TorchSharp's reader would refuse either for the name alone.
    /// </summary>
    static byte[] OptimizerState(byte[] state, string name, bool when)
    {
        if (!when) return state;
        using var reader = new BinaryReader(new MemoryStream(state));
        var saved = reader.ReadString();
        if (saved is not (nameof(TorchSharp.Modules.SGD) or nameof(FusedSGD))) return state;
        using var renamed = new MemoryStream();
        using (var writer = new BinaryWriter(renamed, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(name);
            writer.Write(state.AsSpan((int)reader.BaseStream.Position));
        }
        return renamed.ToArray();
    }

    static CheckpointInfo Info(Header header) => new(header.Epochs, header.Steps, header.Card, header.Run);

    /// <summary>The weights predictions use: the averaged ones, which were evaluated, where the checkpoint has them.</summary>
    static string WeightsEntry(Header header) => header.AverageUpdates is > 0 ? AverageEntry : ModelEntry;

    /// <summary>The verified weights entry <paramref name="entry"/>, copied into <paramref name="model"/>; its problems reported as the checkpoint's.</summary>
    static void LoadModel(ZipArchive zip, Header header, string entry, nn.Module model, string path)
    {
        try
        {
            using var weights = Safetensors.Load(Verified(zip, header, entry, path), path);
            StateDict.CopyInto(model, weights.Tensors, path);
        }
        catch (WeightsException e)
        {
            throw new CheckpointException(path, e.Problem, e);
        }
    }

    static OptimizerHelper Helper(Trainer trainer, string path) =>
        trainer.Optimizer as OptimizerHelper ?? throw new CheckpointException(path, $"the optimizer {trainer.Optimizer.GetType().Name} cannot save its state");

    static ZipArchive Open(string path)
    {
        var file = InputFile.OpenRead(path, MaxFileBytes, (p, problem) => new CheckpointException(p, problem));
        try
        {
            return new ZipArchive(file, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            file.Dispose();
            throw new CheckpointException(path, $"not a checkpoint: expected a {Format} zip archive, found damaged or other data ({e.Message})", e);
        }
    }

    static Header ReadHeader(ZipArchive zip, string path)
    {
        Header? header;
        try
        {
            var json = ReadEntry(zip, "checkpoint.json", path);
            // Tolerate a UTF-8 byte order mark, as editors add one.
            header = JsonSerializer.Deserialize<Header>(json.AsSpan().StartsWith("\uFEFF"u8) ? json.AsSpan(3) : json, Json);
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"checkpoint.json is not valid ({e.Message})", e);
        }
        if (header?.Format != Format)
            throw new CheckpointException(path, $"expected format '{Format}', found '{header?.Format ?? "none"}'");
        if (header.Version != Version)
            throw new CheckpointException(path, $"expected checkpoint version {Version}, found version {header.Version} (written by another version of LeNet.TorchSharp)");
        if (header.Run is null || header.Sha256 is null || header.Epochs < 0 || header.Steps < 0)
            throw new CheckpointException(path, "checkpoint.json lacks the run description or the checksums, or has negative counts");
        try
        {
            if (header.Card is not null) ModelCard.Validated(header.Card);
        }
        catch (FormatException e)
        {
            throw new CheckpointException(path, e.Message, e);
        }
        return header;
    }

    static byte[] Verified(ZipArchive zip, Header header, string name, string path)
    {
        var bytes = ReadEntry(zip, name, path);
        if (!header.Sha256.TryGetValue(name, out var expected) || Hash(bytes) != expected)
            throw new CheckpointException(path, $"entry '{name}' is damaged: its SHA-256 does not match the one recorded when it was saved");
        return bytes;
    }

    static byte[] ReadEntry(ZipArchive zip, string name, string path)
    {
        var entry = zip.GetEntry(name) ?? throw new CheckpointException(path, $"expected an entry '{name}', found none");
        // The declared size is checked against a bound before it sizes anything.
        if (entry.Length > 1L << 30) throw new CheckpointException(path, $"entry '{name}' claims {entry.Length} bytes; refusing to read more than 1 GiB");
        try
        {
            using var stream = entry.Open();
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointException(path, $"entry '{name}' is damaged ({e.Message})", e);
        }
    }
}
