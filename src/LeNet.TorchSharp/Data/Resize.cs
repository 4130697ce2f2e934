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
        // Each channel of each image is resized on its own, so N images of C channels can go as one image of
        // N x C channels. libtorch then takes its planar kernel rather than the channels-last one it picks
        // for a single channel, which is slower (bench/README.md). The two kernels agree to the last bit or two
        // of a float (byte-valued MNIST pixels come out identical).
        var (n, c) = (images.shape[0], images.shape[1]);
        using var planes = images.reshape(1, n * c, images.shape[2], images.shape[3]);
        using var resized = nn.functional.interpolate(planes, [Size, Size], mode: InterpolationMode.Bilinear, align_corners: false);
        return resized.reshape(n, c, Size, Size);
    }

    /// <inheritdoc/>
    public override string ToString() => $"Resize({Size})";
}
