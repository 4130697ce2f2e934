using static TorchSharp.torch;

namespace LeNetTorchSharp.Serialization;

/// <summary>Copies a file's named tensors into a module, as PyTorch's <c>load_state_dict(strict=True)</c>, after checking all of them.</summary>
internal static class StateDict
{
    const string DataParallelPrefix = "module.";

    /// <summary>
    /// Checks that the file's tensors are exactly the module's, each with the module's shape and dtype and holding only
    /// finite numbers, then copies them in place. Nothing is changed if anything differs, and the parameters keep their
    /// own <c>requires_grad</c> (a file's flags, such as PyTorch's state dicts' false, do not stop them training).
    /// </summary>
    /// <remarks>
    /// The file's keys may differ from the module's in two ways PyTorch users meet: a <c>module.</c> prefix on every key
    /// (a model saved from <c>nn.DataParallel</c>), and other layer names for the same layers in the same order (the
    /// tutorial's <c>nn.Sequential</c> MLP has <c>0.*</c>, <c>2.*</c>, <c>4.*</c>, its <c>OrderedDict</c> version
    /// <c>fc1</c>, <c>fc2</c>, <c>output</c>). The second is matched by order only when every layer has the module's
    /// parameters with the module's shapes, in the module's order.
    /// </remarks>
    /// <returns>How the keys were matched where they are not the module's own names, e.g. "keys read by their order: 0 →
    /// fc1, 2 → fc2, 4 → fc3"; null where they are.</returns>
    /// <exception cref="WeightsException">Keys are missing or unexpected, a shape or dtype differs, or a tensor holds
    /// NaN or infinity; the message names them.</exception>
    public static string? CopyInto(nn.Module module, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string path)
    {
        var state = module.state_dict();
        var type = module.GetType().Name;
        var (given, note) = Match(state, tensors)
            ?? throw new WeightsException(path, $"the file does not hold {type}'s parameters: {Difference(state, tensors)} (weights of another architecture?)");
        foreach (var (name, target) in state)
        {
            var source = given[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new WeightsException(path, $"parameter '{name}': expected shape {Shape(target.shape)} for {type}, found {Shape(source.shape)} (weights of another architecture?)");
            if (source.dtype != target.dtype)
                throw new WeightsException(path, $"parameter '{name}': expected dtype {target.dtype} for {type}, found {source.dtype}");
            if (source.is_floating_point() && NotFinite(source) is var bad and > 0)
                throw new WeightsException(path, $"parameter '{name}' holds {bad} NaN or infinite values of {source.numel()}: weights from a run that diverged cannot give an answer");
        }
        using (no_grad())
            foreach (var (name, target) in state)
                target.copy_(given[name]);
        return note;
    }

    /// <summary>How many elements of <paramref name="tensor"/> are NaN or infinite.</summary>
    static long NotFinite(Tensor tensor)
    {
        // Every temporary in the scope: one left to the finalizer can be freed while libtorch still reads it.
        using var scope = NewDisposeScope();
        return isfinite(tensor).logical_not_().sum().item<long>();
    }

    /// <summary>Whether <paramref name="tensors"/> are <paramref name="module"/>'s parameters, by name or by order (as
    /// <see cref="CopyInto"/> matches them), each with the module's shape.</summary>
    public static bool Fits(nn.Module module, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        var state = module.state_dict();
        return Match(state, tensors) is { } match && state.All(s => match.Given[s.Key].shape.SequenceEqual(s.Value.shape));
    }

    /// <summary>The file's tensors by the module's keys, and how they were matched; null where no match holds.</summary>
    static (Dictionary<string, Tensor> Given, string? Note)? Match(Dictionary<string, Tensor> state, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        var byName = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in tensors) byName[name] = tensor;
        if (SameKeys(state, byName)) return (byName, null);

        if (byName.Count > 0 && byName.Keys.All(k => k.StartsWith(DataParallelPrefix, StringComparison.Ordinal)))
        {
            var unprefixed = byName.ToDictionary(t => t.Key[DataParallelPrefix.Length..], t => t.Value);
            if (SameKeys(state, unprefixed)) return (unprefixed, $"the keys' '{DataParallelPrefix}' prefix (nn.DataParallel) dropped");
        }

        // The same layers under other names: layer by layer, in order, the same parameter names and shapes.
        var theirs = Layers(tensors.Select(t => (t.Key, t.Value.shape)));
        var ours = Layers(state.Select(t => (t.Key, t.Value.shape)));
        if (theirs.Count != ours.Count || theirs.Count == 0) return null;
        var mapped = new Dictionary<string, Tensor>();
        for (var i = 0; i < ours.Count; i++)
        {
            if (!theirs[i].Parameters.Select(p => (p.Name, Shape(p.Shape))).SequenceEqual(ours[i].Parameters.Select(p => (p.Name, Shape(p.Shape)))))
                return null;
            foreach (var (name, _) in ours[i].Parameters)
                mapped[Key(ours[i].Layer, name)] = byName[Key(theirs[i].Layer, name)];
        }
        return (mapped, "keys read by their order: " + string.Join(", ", theirs.Zip(ours).Select(p => $"{p.First.Layer} → {p.Second.Layer}")));
    }

    static bool SameKeys(Dictionary<string, Tensor> state, Dictionary<string, Tensor> given) =>
        state.Count == given.Count && state.Keys.All(given.ContainsKey);

    /// <summary>Keys grouped by the layer that owns them (the key less its last part), in order of first appearance.</summary>
    static List<(string Layer, List<(string Name, long[] Shape)> Parameters)> Layers(IEnumerable<(string Key, long[] Shape)> keys)
    {
        var layers = new List<(string Layer, List<(string, long[])> Parameters)>();
        foreach (var (key, shape) in keys)
        {
            var dot = key.LastIndexOf('.');
            var (layer, name) = dot < 0 ? ("", key) : (key[..dot], key[(dot + 1)..]);
            if (layers.Count == 0 || layers[^1].Layer != layer) layers.Add((layer, []));
            layers[^1].Parameters.Add((name, shape));
        }
        return layers;
    }

    static string Key(string layer, string name) => layer.Length == 0 ? name : $"{layer}.{name}";

    /// <summary>The keys the module has and the file lacks, and those the file has and the module lacks, with their shapes.</summary>
    static string Difference(Dictionary<string, Tensor> state, IReadOnlyList<KeyValuePair<string, Tensor>> tensors)
    {
        var given = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in tensors) given[name] = tensor;
        var missing = state.Keys.Where(k => !given.ContainsKey(k)).ToList();
        var unexpected = given.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add($"missing keys {string.Join(", ", missing.Select(k => $"{k} {Shape(state[k].shape)}"))}");
        if (unexpected.Count > 0) parts.Add($"unexpected keys {string.Join(", ", unexpected.Select(k => $"{k} {Shape(given[k].shape)}"))}");
        return string.Join("; ", parts);
    }

    public static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
