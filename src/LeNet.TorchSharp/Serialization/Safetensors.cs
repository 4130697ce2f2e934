using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Serialization;

/// <summary>
/// Reads and writes the safetensors format, the weights format PyTorch tooling shares
/// (<c>safetensors.torch.save_file</c> / <c>load_file</c>): an 8-byte little-endian header length, a JSON
/// header mapping each tensor name to its dtype, shape and byte range, then the raw little-endian data.
/// </summary>
/// <remarks>
/// Everything read from a file is checked before use: the header length against the file, every byte
/// range against the data section and against its dtype and shape, and the ranges must tile the data
/// section exactly, as the format requires. A malformed file fails with <see cref="WeightsException"/>,
/// never with an allocation sized by an unchecked field.
/// Why not TorchSharp.PyBridge's (1.4): it keeps its reader and writer behind <c>load_safetensors</c> and
/// <c>save_safetensors</c>, which neither read nor write <c>__metadata__</c> (where the <see cref="ModelCard"/> lives)
/// and trust every offset and shape in the header.
/// </remarks>
internal static class Safetensors
{
    /// <summary>Largest header accepted (the reference implementation's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    static readonly Dictionary<ScalarType, (string Name, int Size)> Types = new()
    {
        [ScalarType.Float32] = ("F32", 4),
        [ScalarType.Float64] = ("F64", 8),
        [ScalarType.Int64] = ("I64", 8),
        [ScalarType.Int32] = ("I32", 4),
        [ScalarType.Int16] = ("I16", 2),
        [ScalarType.Int8] = ("I8", 1),
        [ScalarType.Byte] = ("U8", 1),
        [ScalarType.Bool] = ("BOOL", 1),
    };

    /// <summary>Writes <paramref name="tensors"/> (moved to the CPU, made contiguous) to <paramref name="path"/>, atomically.</summary>
    /// <param name="path">Target file.</param>
    /// <param name="tensors">Names and tensors, written in this order.</param>
    /// <param name="metadata">Free-form string pairs stored under <c>__metadata__</c>.</param>
    /// <exception cref="ArgumentException">A name repeats, or a tensor has a dtype the format (as implemented here) does not carry.</exception>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var materialized = tensors.ToList();
        AtomicFile.Write(path, temp =>
        {
            using var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
            Save(file, materialized, metadata);
        });
    }

    /// <summary>Writes the safetensors bytes of <paramref name="tensors"/> to <paramref name="output"/>.</summary>
    public static void Save(Stream output, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(tensors);
        var entries = new List<(string Name, string Dtype, long[] Shape, byte[] Data)>();
        foreach (var (name, tensor) in tensors)
        {
            if (entries.Any(e => e.Name == name)) throw new ArgumentException($"tensor name '{name}' appears twice.", nameof(tensors));
            if (!Types.TryGetValue(tensor.dtype, out var type))
                throw new ArgumentException($"tensor '{name}' has dtype {tensor.dtype}; supported: {string.Join(", ", Types.Keys)}.", nameof(tensors));
            using var cpu = tensor.detach().cpu().contiguous();
            entries.Add((name, type.Name, tensor.shape, Bytes(cpu)));
        }

        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, data) in entries)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype);
                json.WriteStartArray("shape");
                foreach (var d in shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += data.Length;
            }
            json.WriteEndObject();
        }
        // The header is padded with spaces to a multiple of 8 so the data section is aligned.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        output.Write(length);
        header.Position = 0;
        header.CopyTo(output);
        foreach (var entry in entries) output.Write(entry.Data);
    }

    /// <summary>A loaded safetensors file: its tensors (on the CPU) in file order, and its metadata.</summary>
    public sealed class Contents(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata) : IDisposable
    {
        /// <summary>The tensors, in the order the file lists them.</summary>
        public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; } = tensors;

        /// <summary>The <c>__metadata__</c> pairs (empty if none).</summary>
        public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

        /// <summary>The tensor named <paramref name="name"/>.</summary>
        /// <exception cref="KeyNotFoundException">No such tensor.</exception>
        public Tensor this[string name] => Tensors.FirstOrDefault(t => t.Key == name).Value
            ?? throw new KeyNotFoundException($"no tensor named '{name}'; the file has: {string.Join(", ", Tensors.Select(t => t.Key))}");

        /// <summary>Releases the tensors.</summary>
        public void Dispose()
        {
            foreach (var (_, t) in Tensors) t.Dispose();
        }
    }

    /// <summary>Reads a safetensors file.</summary>
    /// <exception cref="WeightsException">The file is missing, unreadable or malformed (every check is listed in the remarks of <see cref="Safetensors"/>).</exception>
    public static Contents Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = InputFile.ReadAllBytes(path, Weights.MaxFileBytes, (p, problem) => new WeightsException(p, problem));
        return Load(bytes, path);
    }

    /// <summary>Reads safetensors <paramref name="bytes"/>; <paramref name="path"/> names them in errors.</summary>
    public static Contents Load(ReadOnlySpan<byte> bytes, string path)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian; this machine is not.");
        if (bytes.Length < 8)
            throw new WeightsException(path, $"expected at least 8 bytes (the header length), found {bytes.Length}");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw new WeightsException(path, $"header length {headerLength} does not fit: the file has {bytes.Length - 8} bytes after the length field (limit {MaxHeaderBytes})");
        var data = bytes[(8 + (int)headerLength)..];

        var headerBytes = bytes.Slice(8, (int)headerLength);
        if (!System.Text.Unicode.Utf8.IsValid(headerBytes))
            throw new WeightsException(path, "the header is not valid UTF-8 text");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes.ToArray());
        }
        catch (JsonException e)
        {
            throw new WeightsException(path, $"the header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new WeightsException(path, $"expected the header to be a JSON object, found {document.RootElement.ValueKind}");

            var metadata = new Dictionary<string, string>();
            var specs = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new WeightsException(path, "__metadata__ must be an object of strings");
                    foreach (var pair in property.Value.EnumerateObject())
                        metadata[pair.Name] = pair.Value.ValueKind == JsonValueKind.String
                            ? pair.Value.GetString()!
                            : throw new WeightsException(path, $"__metadata__.{pair.Name} must be a string, found {pair.Value.ValueKind}");
                    continue;
                }
                specs.Add(ReadSpec(property, path, data.Length));
            }

            // The byte ranges must tile the data section: sorted, no gap, no overlap, nothing left over.
            long expected = 0;
            foreach (var spec in specs.OrderBy(s => s.Begin))
            {
                if (spec.Begin != expected)
                    throw new WeightsException(path, $"tensor '{spec.Name}' starts at data offset {spec.Begin}, expected {expected} (ranges must be contiguous and not overlap)");
                expected = spec.End;
            }
            if (expected != data.Length)
                throw new WeightsException(path, $"the tensors cover {expected} data bytes, but the data section has {data.Length}");

            var tensors = new List<KeyValuePair<string, Tensor>>();
            foreach (var spec in specs)
                tensors.Add(new(spec.Name, ToTensor(data[(int)spec.Begin..(int)spec.End], spec.Type, spec.Shape)));
            return new Contents(tensors, metadata);
        }
    }

    static (string, ScalarType, long[], long, long) ReadSpec(JsonProperty property, string path, long dataLength)
    {
        var name = property.Name;
        var spec = property.Value;
        if (spec.ValueKind != JsonValueKind.Object
            || !spec.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !spec.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !spec.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
            throw new WeightsException(path, $"tensor '{name}': expected an object with a string dtype, a shape array and a data_offsets array");

        var dtype = dtypeElement.GetString()!;
        var match = Types.FirstOrDefault(t => t.Value.Name == dtype);
        if (match.Value.Name is null)
            throw new WeightsException(path, $"tensor '{name}': dtype {dtype} is not supported (supported: {string.Join(", ", Types.Values.Select(v => v.Name))})");

        var shape = new List<long>();
        long elements = 1;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var extent) || extent < 0)
                throw new WeightsException(path, $"tensor '{name}': shape entries must be non-negative integers, found {d.GetRawText()}");
            shape.Add(extent);
            // Saturates at dataLength + 1 ("more than the file holds") instead of overflowing.
            elements = extent == 0 || elements == 0 ? 0 : elements > dataLength / extent ? dataLength + 1 : elements * extent;
        }

        var offsets = offsetsElement.EnumerateArray().ToArray();
        if (offsets.Length != 2 || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end))
            throw new WeightsException(path, $"tensor '{name}': data_offsets must be two integers, found {offsetsElement.GetRawText()}");
        if (begin < 0 || end < begin || end > dataLength)
            throw new WeightsException(path, $"tensor '{name}': data_offsets [{begin}, {end}] lie outside the {dataLength}-byte data section");
        var size = match.Value.Size;
        if (elements > dataLength || elements * size != end - begin)
            throw new WeightsException(path, $"tensor '{name}': shape [{string.Join(", ", shape)}] of {dtype} needs {(elements > dataLength ? "more than the file's" : (elements * size).ToString())} bytes, data_offsets give {end - begin}");
        return (name, match.Key, shape.ToArray(), begin, end);
    }

    static byte[] Bytes(Tensor cpu) => cpu.dtype switch
    {
        ScalarType.Float32 => MemoryMarshal.AsBytes<float>(cpu.data<float>().ToArray()).ToArray(),
        ScalarType.Float64 => MemoryMarshal.AsBytes<double>(cpu.data<double>().ToArray()).ToArray(),
        ScalarType.Int64 => MemoryMarshal.AsBytes<long>(cpu.data<long>().ToArray()).ToArray(),
        ScalarType.Int32 => MemoryMarshal.AsBytes<int>(cpu.data<int>().ToArray()).ToArray(),
        ScalarType.Int16 => MemoryMarshal.AsBytes<short>(cpu.data<short>().ToArray()).ToArray(),
        ScalarType.Int8 => MemoryMarshal.AsBytes<sbyte>(cpu.data<sbyte>().ToArray()).ToArray(),
        ScalarType.Byte => cpu.data<byte>().ToArray(),
        ScalarType.Bool => cpu.data<bool>().ToArray().Select(b => b ? (byte)1 : (byte)0).ToArray(),
        _ => throw new ArgumentException($"dtype {cpu.dtype} is not supported."),
    };

    static Tensor ToTensor(ReadOnlySpan<byte> data, ScalarType type, long[] shape) => type switch
    {
        ScalarType.Float32 => tensor(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
        ScalarType.Float64 => tensor(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
        ScalarType.Int64 => tensor(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
        ScalarType.Int32 => tensor(MemoryMarshal.Cast<byte, int>(data).ToArray(), shape),
        ScalarType.Int16 => tensor(MemoryMarshal.Cast<byte, short>(data).ToArray(), shape),
        ScalarType.Int8 => tensor(MemoryMarshal.Cast<byte, sbyte>(data).ToArray(), shape),
        ScalarType.Byte => tensor(data.ToArray(), shape),
        ScalarType.Bool => tensor(data.ToArray().Select(b => b != 0).ToArray(), shape),
        _ => throw new InvalidOperationException($"unhandled dtype {type}"),
    };

    /// <summary>Writes a model's <c>state_dict()</c>: keys are PyTorch's (<c>conv1.weight</c>, …), loadable by
    /// <c>safetensors.torch.load_file</c> and <c>model.load_state_dict</c> in Python.</summary>
    public static void SaveModel(nn.Module model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Save(path, model.state_dict(), metadata);
    }

    /// <summary>Loads weights into <paramref name="model"/>: every key must match a parameter or buffer of the same shape and dtype.</summary>
    /// <exception cref="WeightsException">The file is malformed.</exception>
    /// <exception cref="WeightsException">Keys, shapes or dtypes differ from the model's; the message names them.</exception>
    public static void LoadModel(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var contents = Load(path);
        StateDict.CopyInto(model, contents.Tensors, path);
    }
}
