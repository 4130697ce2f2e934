using System.Reflection;
using SkiaSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Inference;

/// <summary>
/// Turns a user's picture of a digit (any size, colour or background) into a 28x28 MNIST-style image:
/// grayscale, light ink on black, the digit fitted into 20x20 and placed by its centre of mass in the
/// middle of 28x28 — how MNIST's own digits were prepared.
/// </summary>
public static class DigitImage
{
    /// <summary>Reads and converts an image file (PNG, JPEG, or anything SkiaSharp decodes).</summary>
    /// <returns>uint8, 1 x 28 x 28.</returns>
    /// <exception cref="ImageInputException">The file is missing, unreadable, not an image, truncated or damaged, or blank.</exception>
    public static Tensor Load(string path)
    {
        var bytes = InputFile.ReadAllBytes(path, (p, problem) => new ImageInputException(p, problem));
        using var bitmap = Decode(bytes, path);
        return FromGray(Grayscale(bitmap), bitmap.Height, bitmap.Width, path);
    }

    /// <summary>Converts a grayscale image (row-major, 0 = black, 255 = white) to a 28x28 MNIST-style digit.</summary>
    public static Tensor FromGray(float[] gray, int height, int width, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(gray);
        if (gray.Length != height * width) throw new ArgumentException($"{gray.Length} pixels for {height}x{width}.", nameof(gray));
        using var scope = NewDisposeScope();
        var x = tensor(gray, [height, width]);

        // MNIST digits are light on dark; a dark-on-light picture (ink on paper) is inverted. The border
        // tells the background.
        var border = cat([x[0], x[-1], x[.., 0], x[.., -1]]);
        if (border.mean().item<float>() > 127) x = 255 - x;
        x = (x - x.min()).clamp_min(0);

        var max = x.max().item<float>();
        if (max < 16) throw new ImageInputException(name, "the image is blank: no digit stands out from the background");
        // Ink: pixels above a fifth of the brightest; the digit's box is where any is.
        var ink = x.gt(max * 0.2f);
        var rows = ink.any(1).nonzero().flatten();
        var cols = ink.any(dim: 0).nonzero().flatten();
        long top = rows.min().item<long>(), bottom = rows.max().item<long>(), left = cols.min().item<long>(), right = cols.max().item<long>();
        var digit = x.narrow(0, top, bottom - top + 1).narrow(1, left, right - left + 1);

        // Fit into 20x20, keeping the aspect ratio (area averaging when shrinking, bilinear when growing).
        var (h, w) = (digit.shape[0], digit.shape[1]);
        var scale = 20.0 / Math.Max(h, w);
        var (newH, newW) = (Math.Max(1, (long)Math.Round(h * scale)), Math.Max(1, (long)Math.Round(w * scale)));
        var mode = scale < 1 ? InterpolationMode.Area : InterpolationMode.Bilinear;
        var fitted = nn.functional.interpolate(digit.reshape(1, 1, h, w), [newH, newW], mode: mode,
            align_corners: mode == InterpolationMode.Bilinear ? false : null).reshape(newH, newW);
        fitted = fitted * (255f / Math.Max(fitted.max().item<float>(), 1e-6f));

        // Place by the centre of mass at the middle of 28x28.
        var total = fitted.sum().item<float>();
        var cy = (fitted.sum(dim: 1) * arange(newH, dtype: ScalarType.Float32)).sum().item<float>() / total;
        // dim: 0 by name: a bare 0 would convert to the ScalarType overload of sum.
        var cx = (fitted.sum(dim: 0) * arange(newW, dtype: ScalarType.Float32)).sum().item<float>() / total;
        var offY = (long)Math.Clamp(Math.Round(14 - cy), 0, 28 - newH);
        var offX = (long)Math.Clamp(Math.Round(14 - cx), 0, 28 - newW);
        var canvas = zeros(28, 28);
        canvas.narrow(0, offY, newH).narrow(1, offX, newW).copy_(fitted);
        return canvas.round().clamp(0, 255).to(ScalarType.Byte).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decodes the whole image, refusing one whose data ends early or is damaged: SkiaSharp's plain decoding fills
    /// what it could not read with blank rows and reports success, so a cut-off photo would still be classified.
    /// </summary>
    /// <exception cref="ImageInputException">Not an image, too large, truncated or damaged.</exception>
    /// <exception cref="InvalidOperationException">SkiaSharp's native library is missing: the application must reference it.</exception>
    static SKBitmap Decode(byte[] bytes, string path)
    {
        SKCodec? codec;
        try
        {
            using var data = SKData.CreateCopy(bytes);
            codec = SKCodec.Create(data);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException)
        {
            // Like the libtorch backend, SkiaSharp's native library is the application's to choose.
            var informational = typeof(SKBitmap).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
            var version = Version.TryParse(informational.Split('-', '+')[0], out var v) ? $"{v.Major}.{v.Minor}.{v.Build}" : informational;
            throw new InvalidOperationException(
                "Reading images needs SkiaSharp's native library, which this application does not include: add a PackageReference to " +
                $"SkiaSharp.NativeAssets.{NativeAssetsFor()} (version {version}, the SkiaSharp version in use).", e);
        }
        using (codec)
        {
            if (codec is null)
                throw new ImageInputException(path, KnownFormat(bytes) is { } format
                    ? $"is truncated or damaged: it starts as a {format} file, but its header cannot be read ({bytes.Length} bytes)"
                    : $"not an image: expected a PNG or JPEG file, found {bytes.Length} bytes of something else");
            var (width, height) = (codec.Info.Width, codec.Info.Height);
            if (width < 1 || height < 1 || (long)width * height > 64_000_000)
                throw new ImageInputException(path, $"expected an image of at most 64 megapixels, found {width}x{height}");
            var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
            var result = codec.GetPixels(bitmap.Info, bitmap.GetPixels());
            // A PNG cut after its last pixel row still decodes; its end chunk tells that the file is whole.
            if (result is SKCodecResult.Success && codec.EncodedFormat == SKEncodedImageFormat.Png && !bytes.AsSpan().EndsWith(PngEnd))
                result = SKCodecResult.IncompleteInput;
            if (result is SKCodecResult.Success) return bitmap;
            bitmap.Dispose();
            throw new ImageInputException(path, result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
                ? $"is truncated or damaged: the {codec.EncodedFormat} data ends early or is corrupt ({bytes.Length} bytes)"
                : $"cannot be decoded as {codec.EncodedFormat} ({result})");
        }
    }

    /// <summary>The IEND chunk every complete PNG file ends with: length 0, type, CRC-32.</summary>
    static ReadOnlySpan<byte> PngEnd => [0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82];

    /// <summary>The format an image file's first bytes announce, or null.</summary>
    static string? KnownFormat(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? "PNG"
        : bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "JPEG"
        : bytes.StartsWith("GIF8"u8) ? "GIF"
        : bytes.StartsWith("BM"u8) ? "BMP"
        : bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8) ? "WebP"
        : null;

    static string NativeAssetsFor() =>
        OperatingSystem.IsWindows() ? "Win32" : OperatingSystem.IsMacOS() ? "macOS" : "Linux.NoDependencies";

    static float[] Grayscale(SKBitmap bitmap)
    {
        var gray = new float[bitmap.Width * bitmap.Height];
        for (var y = 0; y < bitmap.Height; y++)
            for (var x = 0; x < bitmap.Width; x++)
            {
                var c = bitmap.GetPixel(x, y);
                // Transparent areas count as white paper.
                var a = c.Alpha / 255f;
                var lum = 0.299f * c.Red + 0.587f * c.Green + 0.114f * c.Blue;
                gray[y * bitmap.Width + x] = lum * a + 255f * (1 - a);
            }
        return gray;
    }
}
