using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Serialization;

/// <summary>
/// PyTorch's own weights files: what <c>torch.save(net.state_dict(), "net.pt")</c> writes and
/// <c>net.load_state_dict(torch.load("net.pt"))</c> reads. Written through TorchSharp.PyBridge's pickler; read by
/// <see cref="StateDictUnpickler"/>.
/// </summary>
/// <remarks>
/// PyBridge's <c>load_py</c> is not used to load into a module: it copies the file's <c>requires_grad</c> (false
/// in every state dict PyTorch saves, so the loaded model would stop training), checks no shapes (a wrong one loads
/// garbage or fails deep in libtorch) and cannot read tensors that are views. The state dict is read on its own
/// instead, every key and shape is checked against the module, and the tensors are copied into the module's own
/// parameters.
/// </remarks>
internal static class PyTorchWeights
{
    // The first bytes of what torch.save wrote before PyTorch 1.6: a pickle (protocol 2) of a magic number, a
    // long of 10 bytes. Since 1.6 torch.save writes a zip archive.
    static ReadOnlySpan<byte> LegacyStart => [0x80, 0x02, 0x8a, 0x0a];
    static ReadOnlySpan<byte> ZipStart => "PK\u0003\u0004"u8;

    /// <summary>Reads a state dict written by <c>torch.save</c>: its names and tensors (on the CPU), in no particular order.</summary>
    /// <exception cref="WeightsException">The file is missing or unreadable, in PyTorch's legacy format, a whole pickled
    /// model rather than a state dict, or not a PyTorch file at all; the message says which.</exception>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> Load(string path)
    {
        using var stream = InputFile.OpenRead(path, Weights.MaxFileBytes, (p, problem) => new WeightsException(p, problem));
        Span<byte> start = stackalloc byte[4];
        var read = stream.ReadAtLeast(start, 4, throwOnEndOfStream: false);
        if (read == 4 && start.SequenceEqual(LegacyStart))
            throw new WeightsException(path, "saved in PyTorch's legacy format (before 1.6), which is not supported: load it in Python and save it again with torch.save(net.state_dict(), path)");
        if (read < 4 || !start.SequenceEqual(ZipStart))
            throw new WeightsException(path, $"not a PyTorch weights file: expected the zip archive torch.save writes, found {(read == 0 ? "an empty file" : "other data")}");
        stream.Position = 0;
        try
        {
            using var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Read, leaveOpen: true);
            CheckArchive(zip, path);
            return StateDictUnpickler.Read(zip, path);
        }
        catch (InvalidDataException e)
        {
            throw new WeightsException(path, $"not a readable zip archive ({e.Message})", e);
        }
    }

    /// <summary>Loads a state dict written by <c>torch.save</c> into <paramref name="model"/>: the keys must be the
    /// model's, each with its shape and dtype; the model's parameters keep training.</summary>
    /// <exception cref="WeightsException">The file cannot be read as a state dict, or its keys, shapes or dtypes differ from the model's.</exception>
    public static void LoadModel(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tensors = Load(path);
        try
        {
            StateDict.CopyInto(model, tensors, path);
        }
        finally
        {
            foreach (var (_, tensor) in tensors) tensor.Dispose();
        }
    }

    /// <summary>Writes <paramref name="model"/>'s <c>state_dict()</c> as <c>torch.save</c> does, atomically, for
    /// <c>net.load_state_dict(torch.load(path))</c> in Python.</summary>
    public static void SaveModel(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var state = new Dictionary<string, Tensor>();
        try
        {
            // As PyTorch's state_dict(): detached tensors, which torch.load gives back without requires_grad.
            foreach (var (name, tensor) in model.state_dict()) state[name] = tensor.detach().cpu().contiguous();
            AtomicFile.Write(path, temp =>
            {
                using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
                PyTorchPickler.PickleStateDict(file, state, leaveOpen: true);
            });
        }
        finally
        {
            foreach (var tensor in state.Values) tensor.Dispose();
        }
    }

    /// <summary>Throws unless the zip archive is torch.save's and whole: damaged tensor data would load as wrong weights,
    /// and neither .NET's ZipArchive nor the unpickler checks the CRC-32 that the zip format records for every entry.</summary>
    static void CheckArchive(System.IO.Compression.ZipArchive zip, string path)
    {
        if (zip.GetEntry("checkpoint.json") is not null)
            throw new WeightsException(path, "is a LeNet.TorchSharp training checkpoint, not a PyTorch weights file: load it with Checkpoint.LoadWeights (its extension is .ckpt)");
        if (!zip.Entries.Any(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)))
            throw new WeightsException(path, $"not a PyTorch weights file: a zip archive without torch.save's data.pkl (entries: {string.Join(", ", zip.Entries.Take(5).Select(e => e.FullName))})");
        foreach (var entry in zip.Entries)
        {
            using var data = entry.Open();
            var crc = Crc32.Of(data);
            if (crc != entry.Crc32)
                throw new WeightsException(path, $"entry '{entry.FullName}' is damaged: its CRC-32 is {crc:x8}, the archive records {entry.Crc32:x8}");
        }
    }
}
