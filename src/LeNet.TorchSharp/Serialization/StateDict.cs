using static TorchSharp.torch;

namespace LeNetTorchSharp.Serialization;

/// <summary>Copies a file's named tensors into a module, as PyTorch's <c>load_state_dict(strict=True)</c>, after checking all of them.</summary>
internal static class StateDict
{
    /// <summary>
    /// Checks that the file's keys are exactly the module's, each with the module's shape and dtype, then copies
    /// them in place. Nothing is changed if anything differs, and the parameters keep their own
    /// <c>requires_grad</c> (a file's flags, such as PyTorch's state dicts' false, do not stop them training).
    /// </summary>
    /// <exception cref="WeightsException">Keys are missing or unexpected, or a shape or dtype differs; the message names them.</exception>
    public static void CopyInto(nn.Module module, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, string path)
    {
        var state = module.state_dict();
        var given = new Dictionary<string, Tensor>();
        foreach (var (name, tensor) in tensors) given[name] = tensor;
        var type = module.GetType().Name;

        var missing = state.Keys.Where(k => !given.ContainsKey(k)).ToList();
        var unexpected = given.Keys.Where(k => !state.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0 || unexpected.Count > 0)
        {
            var parts = new List<string>();
            if (missing.Count > 0) parts.Add($"missing keys {string.Join(", ", missing.Select(k => $"{k} {Shape(state[k].shape)}"))}");
            if (unexpected.Count > 0) parts.Add($"unexpected keys {string.Join(", ", unexpected.Select(k => $"{k} {Shape(given[k].shape)}"))}");
            throw new WeightsException(path, $"the file does not hold {type}'s parameters: {string.Join("; ", parts)} (weights of another architecture?)");
        }
        foreach (var (name, target) in state)
        {
            var source = given[name];
            if (!source.shape.SequenceEqual(target.shape))
                throw new WeightsException(path, $"parameter '{name}': expected shape {Shape(target.shape)} for {type}, found {Shape(source.shape)} (weights of another architecture?)");
            if (source.dtype != target.dtype)
                throw new WeightsException(path, $"parameter '{name}': expected dtype {target.dtype} for {type}, found {source.dtype}");
        }
        using (no_grad())
            foreach (var (name, target) in state)
                target.copy_(given[name]);
    }

    public static string Shape(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
