using SkiaSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Plots;

/// <summary>One image tensor as a grayscale PNG: the tutorial's <c>imshow</c>.</summary>
public static class ImagePng
{
    /// <summary>Writes <see cref="Render"/>'s PNG to <paramref name="path"/>, atomically.</summary>
    /// <exception cref="ArgumentException">The tensor is not one single-channel image.</exception>
    public static void Save(Tensor image, string path, int scale = 8) => Render(image, scale).Save(path);

    /// <summary>
    /// <paramref name="image"/> (H x W or 1 x H x W, any value range) as a PNG, white for its largest value and
    /// black for its smallest (so normalized images look as they did before normalization), each pixel drawn as
    /// a <paramref name="scale"/> x <paramref name="scale"/> square.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not one single-channel image.</exception>
    public static PngImage Render(Tensor image, int scale = 8)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        var (height, width, gray) = ToGrayBytes(image);

        using var bitmap = new SKBitmap(width * scale, height * scale, SKColorType.Gray8, SKAlphaType.Opaque);
        var pixels = bitmap.GetPixelSpan();
        for (var y = 0; y < height * scale; y++)
            for (var x = 0; x < width * scale; x++)
                pixels[y * bitmap.RowBytes + x] = gray[y / scale * width + x / scale];
        using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return new PngImage(png.ToArray());
    }

    /// <summary>Min-max scales a single-channel image to bytes, row-major.</summary>
    internal static (int Height, int Width, byte[] Gray) ToGrayBytes(Tensor image)
    {
        using var scope = NewDisposeScope();
        var x = image.detach().cpu().to(ScalarType.Float32);
        if (x.dim() == 3 && x.shape[0] == 1) x = x.squeeze(0);
        if (x.dim() != 2)
            throw new ArgumentException($"expected one single-channel image, H x W or 1 x H x W; received [{string.Join(", ", image.shape)}].", nameof(image));
        var (min, max) = (x.min().item<float>(), x.max().item<float>());
        var scaled = max > min ? x.sub(min).div(max - min) : zeros_like(x);
        var bytes = scaled.mul(255).round().to(ScalarType.Byte).contiguous().data<byte>().ToArray();
        return ((int)x.shape[0], (int)x.shape[1], bytes);
    }
}
