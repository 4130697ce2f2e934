using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Resizes images to <c>size x size</c> with bilinear interpolation (torchvision's <c>transforms.Resize</c>;
/// pixel centres aligned as in PIL and <c>align_corners=False</c>). LeNet takes 32x32; MNIST is 28x28.
/// </summary>
public sealed class Resize : ITransform
{
    /// <summary>Side of the square output.</summary>
    public int Size { get; }

    /// <summary>Creates the transform.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is not positive.</exception>
    public Resize(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        Size = size;
    }

    /// <inheritdoc/>
    /// <exception cref="ArgumentException">The images are not a 4-dimensional floating-point tensor.</exception>
    public Tensor Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || !images.is_floating_point())
            throw new ArgumentException($"Resize expects float images of shape [N, C, H, W]; received {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        return nn.functional.interpolate(images, [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Resize({Size})";
}
