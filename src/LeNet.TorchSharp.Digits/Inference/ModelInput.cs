namespace LeNetTorchSharp.Inference;

/// <summary>
/// MNIST-style digits (28x28 bytes) turned into a model's input as the library's dataset turns them: resized as bytes
/// to the model's side (bilinear, rounded back to bytes), scaled to [0, 1], then normalized with the model card's mean
/// and standard deviation — what an app running an exported model must do to get the library's answers.
/// </summary>
public static class ModelInput
{
    /// <summary>The input of <paramref name="count"/> digits for a model of <paramref name="side"/> x <paramref name="side"/> images.</summary>
    /// <param name="digits"><paramref name="count"/> x 28 x 28 bytes, row-major, as <see cref="MnistDigit"/> and MNIST's IDX files hold them.</param>
    /// <param name="count">How many digits.</param>
    /// <param name="side">The model's image side (32 for LeNet, 28 for the MLP).</param>
    /// <param name="mean">Subtracted from each pixel in [0, 1].</param>
    /// <param name="std">What each pixel is then divided by.</param>
    /// <returns><paramref name="count"/> x side x side floats, row-major.</returns>
    /// <exception cref="ArgumentException">The bytes are not count x 28 x 28, the side is not positive, or the
    /// normalization is not a finite mean and a positive std.</exception>
    public static float[] Prepare(ReadOnlySpan<byte> digits, int count, int side, double mean, double std)
    {
        const int Size = MnistDigit.Size;
        if (count < 0 || digits.Length != (long)count * Size * Size)
            throw new ArgumentException($"expected {count} x {Size} x {Size} = {(long)count * Size * Size} bytes; received {digits.Length}.", nameof(digits));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        if (!double.IsFinite(mean) || !double.IsFinite(std) || std <= 0)
            throw new ArgumentException($"expected a finite mean and a positive std; received mean {mean}, std {std}.", nameof(std));
        // The same float operations as the library's tensors: x / 255, then (x - mean) / std in float32.
        float m = (float)mean, s = (float)std;
        var input = new float[(long)count * side * side];
        var image = new float[Size * Size];
        for (var n = 0; n < count; n++)
        {
            var source = digits.Slice(n * Size * Size, Size * Size);
            for (var i = 0; i < image.Length; i++) image[i] = source[i];
            var resized = side == Size ? image : Interpolate.Bilinear(image, Size, Size, side, side);
            var target = input.AsSpan(n * side * side, side * side);
            for (var i = 0; i < target.Length; i++)
            {
                // Rounded back to bytes, as resizing a PIL image does before ToTensor (and as the library's MNIST does).
                var pixel = side == Size ? resized[i] : Math.Clamp(MathF.Round(resized[i]), 0f, 255f);
                target[i] = (pixel / 255f - m) / s;
            }
        }
        return input;
    }
}
