using System.Collections;
using System.IO.Compression;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Serialization;

/// <summary>
/// Reads the state dict in a <c>torch.save</c> zip archive: <c>data.pkl</c> through Razorvine.Pickle (the unpickler
/// TorchSharp.PyBridge uses), every tensor rebuilt from its storage with its own offset, sizes and strides.
/// </summary>
/// <remarks>
/// <para>
/// Why not PyBridge's reader: it copies a storage's bytes into a tensor of the view's shape, so a valid file whose
/// tensors are views (non-contiguous, offset into a larger storage, sharing one storage, or with a stride of 0, as
/// <c>expand</c> makes) fails with "Bytes() called on non-contiguous tensor" or libtorch's "setStorage … out of bounds".
/// Here a storage is read once, checked against its declared size, and each tensor is cut from it by
/// <c>as_strided</c> after its extent is checked to lie inside.
/// </para>
/// <para>
/// Nothing a pickle names is run: Razorvine builds plain data, and only four names mean anything here
/// (<c>torch._utils._rebuild_tensor_v2</c>, <c>_rebuild_tensor</c>, <c>_rebuild_parameter</c> and
/// <c>collections.OrderedDict</c>); any other class becomes an inert dictionary, refused below. Razorvine's table of
/// constructors is process-wide, so these four are put in only while a file is read, under a lock, each passing what
/// is not its own to the constructor that was there before, and taken out again afterwards.
/// </para>
/// </remarks>
internal sealed class StateDictUnpickler : Unpickler
{
    static readonly Lock Gate = new();
    static readonly string[] Names =
        ["torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter", "collections.OrderedDict"];

    readonly string prefix;
    readonly string path;
    int order;

    StateDictUnpickler(string prefix, string path) => (this.prefix, this.path) = (prefix, path);

    /// <summary>A storage the pickle refers to: its entry in the archive, element type and length.</summary>
    sealed record StorageRef(string Key, ScalarType Type, long Numel);

    /// <summary>A tensor as <c>_rebuild_tensor_v2</c> describes it, numbered in the order the file holds them.</summary>
    sealed record TensorSpec(int Order, StorageRef Storage, long Offset, long[] Size, long[] Stride);

    /// <summary>PyTorch's <c>OrderedDict</c> (a state dict's type); its <c>_metadata</c> is not needed.</summary>
    sealed class OrderedDict : Hashtable
    {
        public void __setstate__(Hashtable state)
        {
        }
    }

    /// <summary>One of the four constructors, passing arguments it does not know to the one registered before it.</summary>
    sealed class Constructor(Func<object[], object?> build, IObjectConstructor? previous) : IObjectConstructor
    {
        public IObjectConstructor? Previous { get; } = previous;

        public object construct(object[] args) =>
            build(args) ?? Previous?.construct(args) ?? throw new PickleException($"unexpected arguments ({args.Length})");
    }

    /// <summary>The state dict's names and tensors (on the CPU, each its own contiguous copy), in the file's order.</summary>
    /// <param name="archive">The archive, its CRC-32s already checked.</param>
    /// <param name="path">Names the file in errors.</param>
    /// <exception cref="WeightsException">TorchScript, a whole model, a dict of other things, or a storage or view that does not fit.</exception>
    public static List<KeyValuePair<string, Tensor>> Read(ZipArchive archive, string path)
    {
        var pickle = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') <= 1)
            ?? throw new WeightsException(path, "not a PyTorch weights file: a zip archive without torch.save's data.pkl");
        var prefix = pickle.FullName[..^"data.pkl".Length];
        if (archive.GetEntry(prefix + "constants.pkl") is not null || archive.Entries.Any(e => e.FullName.StartsWith(prefix + "code/", StringComparison.Ordinal)))
            throw new WeightsException(path, "is a TorchScript module (torch.jit.save), not a state_dict: in Python, " +
                "torch.save(torch.jit.load(path).state_dict(), \"weights.pt\") writes its weights as a state_dict, which loads here");
        if (archive.GetEntry(prefix + "byteorder") is { } byteorder && ReadText(byteorder) is var order && order != "little")
            throw new WeightsException(path, $"holds {order}-endian tensors; expected little-endian");

        object root;
        var unpickler = new StateDictUnpickler(prefix, path);
        lock (Gate)
        {
            var installed = Install(unpickler);
            try
            {
                using var stream = pickle.Open();
                root = unpickler.load(stream);
            }
            catch (Exception e) when (e is PickleException or InvalidCastException or InvalidDataException or FormatException or OverflowException or KeyNotFoundException)
            {
                throw new WeightsException(path, $"not a readable PyTorch state_dict ({ErrorText.FirstLine(e.Message)})", e);
            }
            finally
            {
                Uninstall(installed);
            }
        }
        return Materialize(archive, prefix, Entries(root, path), path);
    }

    /// <summary>Puts this reader's constructors in Razorvine's table, each wrapping the one it replaces.</summary>
    static Constructor[] Install(StateDictUnpickler reader)
    {
        Func<object[], object?>[] builds =
        [
            args => args.Length >= 4 && args[0] is StorageRef storage ? reader.Tensor(storage, args) : null,
            args => args.Length >= 4 && args[0] is StorageRef storage ? reader.Tensor(storage, args) : null,
            args => args.Length >= 1 && args[0] is TensorSpec spec ? spec : null,
            _ => new OrderedDict(),
        ];
        var installed = new Constructor[Names.Length];
        for (var i = 0; i < Names.Length; i++)
        {
            objectConstructors.TryGetValue(Names[i], out var previous);
            installed[i] = new Constructor(builds[i], previous);
            objectConstructors[Names[i]] = installed[i];
        }
        return installed;
    }

    /// <summary>Takes the constructors out again, where no one has replaced them since.</summary>
    static void Uninstall(Constructor[] installed)
    {
        for (var i = 0; i < Names.Length; i++)
        {
            if (!objectConstructors.TryGetValue(Names[i], out var current) || !ReferenceEquals(current, installed[i])) continue;
            if (installed[i].Previous is { } previous) objectConstructors[Names[i]] = previous;
            else objectConstructors.Remove(Names[i]);
        }
    }

    /// <summary>torch.save's persistent id for a storage: ('storage', storage type, key, location, numel).</summary>
    protected override object persistentLoad(object pid)
    {
        if (pid is not object[] { Length: >= 5 } tuple || tuple[0] as string != "storage" || tuple[1] is not ClassDictConstructor type || tuple[2] is not string key)
            throw new PickleException("a persistent id that is not torch.save's storage reference");
        return new StorageRef(key, ScalarTypeOf(type.name), Convert.ToInt64(tuple[4], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary><c>_rebuild_tensor_v2(storage, storage_offset, size, stride, …)</c>, not built yet: the storage is read once for all its views.</summary>
    TensorSpec Tensor(StorageRef storage, object[] args) =>
        new(order++, storage, Long(args[1]), Longs(args[2]), Longs(args[3]));

    static long Long(object value) => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);

    static long[] Longs(object value) => value is object[] items ? [.. items.Select(Long)] : throw new PickleException("a tensor's size or stride is not a tuple");

    ScalarType ScalarTypeOf(string storage) => storage switch
    {
        "FloatStorage" => ScalarType.Float32,
        "DoubleStorage" => ScalarType.Float64,
        "HalfStorage" => ScalarType.Float16,
        "BFloat16Storage" => ScalarType.BFloat16,
        "LongStorage" => ScalarType.Int64,
        "IntStorage" => ScalarType.Int32,
        "ShortStorage" => ScalarType.Int16,
        "CharStorage" => ScalarType.Int8,
        "ByteStorage" => ScalarType.Byte,
        "BoolStorage" => ScalarType.Bool,
        _ => throw new WeightsException(path, $"holds a {storage}, a kind of tensor storage this library does not read"),
    };

    /// <summary>The pickle's top object as (name, tensor description) pairs, refusing anything that is not a state dict.</summary>
    static List<(string Name, TensorSpec Spec)> Entries(object root, string path)
    {
        if (root is ClassDict model)
            throw new WeightsException(path, $"holds a whole pickled model ({model.ClassName}), not a state_dict: in Python, save its weights with torch.save(net.state_dict(), path)");
        if (root is not Hashtable table)
            throw new WeightsException(path, $"expected a state_dict (a dict of tensors), found {Describe(root)}");
        var entries = new List<(string, TensorSpec)>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry.Key is not string name || entry.Value is not TensorSpec spec)
            {
                var keys = string.Join(", ", table.Keys.Cast<object>().Select(k => k.ToString()).Order(StringComparer.Ordinal));
                throw new WeightsException(path, $"expected a state_dict mapping names to tensors, found {Describe(entry.Value)} under '{entry.Key}' (its keys: {keys}); " +
                    "a training checkpoint? In Python, save the model's own state_dict: torch.save(net.state_dict(), path)");
            }
            entries.Add((name, spec));
        }
        return [.. entries.OrderBy(e => e.Item2.Order)];
    }

    static string Describe(object? value) => value switch
    {
        null => "None",
        Hashtable => "a dict",
        ArrayList or object[] => "a list or tuple",
        ClassDict c => $"an object of {c.ClassName}",
        _ => $"a {value.GetType().Name}",
    };

    /// <summary>Each storage read once, checked against its declared length; each tensor cut from it, checked to lie inside, and copied out.</summary>
    static List<KeyValuePair<string, Tensor>> Materialize(ZipArchive archive, string prefix, List<(string Name, TensorSpec Spec)> entries, string path)
    {
        var storages = new Dictionary<string, Tensor>();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        try
        {
            foreach (var (name, spec) in entries)
            {
                if (!storages.TryGetValue(spec.Storage.Key, out var storage))
                    storages[spec.Storage.Key] = storage = ReadStorage(archive, prefix, spec.Storage, path);
                tensors.Add(new(name, View(storage, spec, name, path)));
            }
            return tensors;
        }
        catch
        {
            foreach (var (_, t) in tensors) t.Dispose();
            throw;
        }
        finally
        {
            foreach (var storage in storages.Values) storage.Dispose();
        }
    }

    static Tensor ReadStorage(ZipArchive archive, string prefix, StorageRef storage, string path)
    {
        var entry = archive.GetEntry($"{prefix}data/{storage.Key}")
            ?? throw new WeightsException(path, $"storage '{storage.Key}' is referred to but the archive has no entry {prefix}data/{storage.Key}");
        var elementSize = ElementSize(storage.Type);
        if (storage.Numel < 0 || storage.Numel > Weights.MaxFileBytes / elementSize || entry.Length != storage.Numel * elementSize)
            throw new WeightsException(path, $"storage '{storage.Key}' is declared as {storage.Numel} elements of {storage.Type} ({storage.Numel * elementSize} bytes); its entry holds {entry.Length} bytes");
        var bytes = new byte[entry.Length];
        using (var stream = entry.Open()) stream.ReadExactly(bytes);
        var tensor = empty(storage.Numel, storage.Type);
        bytes.CopyTo(tensor.bytes);
        return tensor;
    }

    static Tensor View(Tensor storage, TensorSpec spec, string name, string path)
    {
        if (spec.Size.Length != spec.Stride.Length || spec.Offset < 0 || spec.Size.Any(s => s < 0) || spec.Stride.Any(s => s < 0))
            throw new WeightsException(path, $"tensor '{name}': size [{string.Join(", ", spec.Size)}], stride [{string.Join(", ", spec.Stride)}] and offset {spec.Offset} do not describe a view");
        try
        {
            // The last element the view reaches must lie inside the storage (a view with no elements reaches none).
            var last = spec.Offset;
            for (var d = 0; d < spec.Size.Length; d++) last = checked(last + (spec.Size[d] == 0 ? 0 : (spec.Size[d] - 1) * spec.Stride[d]));
            if (spec.Size.All(s => s > 0) && last >= spec.Storage.Numel)
                throw new WeightsException(path, $"tensor '{name}' reaches element {last} of storage '{spec.Storage.Key}', which holds {spec.Storage.Numel}");
        }
        catch (OverflowException)
        {
            throw new WeightsException(path, $"tensor '{name}': size [{string.Join(", ", spec.Size)}] and stride [{string.Join(", ", spec.Stride)}] overflow");
        }
        using var scope = NewDisposeScope();
        return storage.as_strided(spec.Size, spec.Stride, spec.Offset).contiguous().clone().MoveToOuterDisposeScope();
    }

    static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static string ReadText(ZipArchiveEntry entry)
    {
        using var reader = new System.IO.StreamReader(entry.Open());
        return reader.ReadToEnd().Trim();
    }
}
