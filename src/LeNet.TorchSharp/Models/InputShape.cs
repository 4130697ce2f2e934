using static TorchSharp.torch;

namespace LeNetTorchSharp.Models;

/// <summary>Checks a model's input before libtorch sees it, so a wrong shape gets our message, not a native stack trace.</summary>
internal static class InputShape
{
    /// <summary>Throws unless <paramref name="input"/> has the dtype of the model's weights and matches
    /// <paramref name="expected"/> (-1: any size, shown as N).</summary>
    public static void Check(Tensor input, string model, ScalarType weights, long[] expected, string? hint = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.is_floating_point())
            throw new ArgumentException($"{model} expects floating-point input; received {input.dtype} (convert images with .to(ScalarType.Float32) and scale them to [0, 1]).", nameof(input));
        if (input.dtype != weights)
            throw new ArgumentException($"{model} expects {weights} input, the dtype of its weights; received {input.dtype} (convert it with .to(ScalarType.{weights}), or the model with .to(ScalarType.{input.dtype})).", nameof(input));
        if (Matches(input.shape, expected)) return;
        throw new ArgumentException(
            $"{model} expects input of shape {Format(expected)}; received {Format(input.shape)}" +
            (hint is null ? "." : $" ({hint})."), nameof(input));
    }

    public static bool Matches(long[] shape, long[] expected) =>
        shape.Length == expected.Length && shape.Zip(expected).All(p => p.Second < 0 || p.First == p.Second);

    public static string Format(long[] shape) =>
        "[" + string.Join(", ", shape.Select(d => d < 0 ? "N" : d.ToString())) + "]";
}
