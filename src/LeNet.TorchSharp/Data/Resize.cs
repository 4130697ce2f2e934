using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Resizes images to <c>size x size</c> with bilinear interpolation (pixel centres aligned as in PIL,
/// <c>align_corners=False</c>), as a <c>torchvision.ITransform</c>. LeNet takes 32x32; MNIST is 28x28.
/// </summary>
/// <remarks>Why not TorchVision's <c>transforms.Resize(32, InterpolationMode.Bilinear)</c>, which gives the same
/// values: it makes libtorch print an <c>align_corners</c> warning on every call (and its default is nearest).</remarks>
internal sealed class Resize : torchvision.ITransform
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

    /// <summary>The resized images, N x C x size x size.</summary>
    /// <exception cref="ArgumentException">The images are not a 4-dimensional floating-point tensor.</exception>
    public Tensor call(Tensor images)
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
