using static TorchSharp.torch;

namespace LeNetTorchSharp.Serialization;

/// <summary>
/// One entry point for a model's weights, the format chosen by the file's extension: <c>.safetensors</c>
/// (<see cref="Safetensors"/>), or PyTorch's <c>.pt</c> / <c>.pth</c> state dicts (<see cref="PyTorchWeights"/>).
/// </summary>
/// <remarks>Either way the keys are PyTorch's <c>state_dict</c> keys (<c>conv1.weight</c>, …), so weights move between
/// this library and a PyTorch model of the same layers in both directions.</remarks>
public static class Weights
{
    /// <summary>The largest weights file read (1 GiB): thousands of times LeNet's, and a bound on the memory a load takes.</summary>
    public const long MaxFileBytes = 1L << 30;

    /// <summary>The extensions <see cref="Load"/> and <see cref="Save"/> accept.</summary>
    public static IReadOnlyList<string> Extensions { get; } = [".safetensors", ".pt", ".pth"];

    /// <summary>Loads weights into <paramref name="module"/> (any TorchSharp module): every key must be the module's,
    /// with its shape and dtype; nothing changes otherwise, and the parameters keep training.</summary>
    /// <exception cref="ArgumentException">The extension is not one of <see cref="Extensions"/>.</exception>
    /// <exception cref="WeightsException">The file cannot be read, or does not fit the module; the message names the file and the difference.</exception>
    public static void Load(nn.Module module, string path)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (IsPyTorch(path)) PyTorchWeights.LoadModel(module, path);
        else Safetensors.LoadModel(module, path);
    }

    /// <summary>Writes <paramref name="module"/>'s <c>state_dict()</c> to <paramref name="path"/>, atomically.</summary>
    /// <param name="module">Any TorchSharp module.</param>
    /// <param name="path">A <c>.safetensors</c>, <c>.pt</c> or <c>.pth</c> file.</param>
    /// <param name="card">What the weights are, stored in a safetensors file's metadata (a <c>.pt</c> file has no place for it).</param>
    /// <exception cref="ArgumentException">The extension is not one of <see cref="Extensions"/>.</exception>
    public static void Save(nn.Module module, string path, ModelCard? card = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        if (IsPyTorch(path)) PyTorchWeights.SaveModel(module, path);
        else Safetensors.SaveModel(module, path, card?.ToMetadata());
    }

    /// <summary>Whether <paramref name="path"/> names a PyTorch file (else a safetensors one).</summary>
    /// <exception cref="ArgumentException">The extension is neither.</exception>
    static bool IsPyTorch(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!Extensions.Contains(extension))
            throw new ArgumentException($"{path}: expected a weights file ending in {string.Join(", ", Extensions)}; found '{extension}'.", nameof(path));
        return extension != ".safetensors";
    }
}
