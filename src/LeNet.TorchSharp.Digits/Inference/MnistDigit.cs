using System.Reflection;
using System.Runtime.InteropServices;
using SkiaSharp;

namespace LeNetTorchSharp.Inference;

/// <summary>
/// Turns a user's picture of a digit (any size, colour, background or orientation) into a 28x28 MNIST-style image:
/// grayscale, light ink on black, the digit fitted into 20x20 and placed by its centre of mass in the middle of
/// 28x28 — how MNIST's own digits were prepared. Plain .NET and SkiaSharp, so that the library on libtorch and an
/// app on ONNX Runtime see the same 784 bytes for the same picture.
/// </summary>
/// <remarks>
/// Work and memory are bounded whatever the file: at most <see cref="MaxFileBytes"/> are read; a JPEG of up to
/// <see cref="MaxPixels"/> is decoded at a reduced scale (libjpeg's 1/2 to 1/8) a row at a time into a grid of at most
/// 1024 pixels on the long side, so an 8000x8000 photo costs what a 1024x1024 one does; formats that Skia decodes
/// only whole (PNG among them) are read up to <see cref="MaxWholePixels"/>. A phone photo's EXIF orientation is
/// applied, so the digit is read as a person sees it.
/// </remarks>
public static class MnistDigit
{
    /// <summary>Rows and columns of an MNIST image.</summary>
    public const int Size = 28;

    /// <summary>The largest image file read: 64 MiB, far above a phone photo.</summary>
    public const long MaxFileBytes = 64L << 20;

    /// <summary>The most pixels a JPEG may have: 100 megapixels, decoded at a reduced scale.</summary>
    public const long MaxPixels = 100_000_000;

    /// <summary>The most pixels a picture decoded whole may have (PNG and the other formats Skia cannot decode by rows):
    /// 25 megapixels, 100 MB as RGBA.</summary>
    public const long MaxWholePixels = 25_000_000;

    /// <summary>The fewest pixels on a side that can hold a digit.</summary>
    public const int MinSide = 8;

    /// <summary>The long side pictures are reduced to (by averaging) before the digit is looked for.</summary>
    const int WorkingSide = 1024;

    /// <summary>Reads and converts an image file (PNG, JPEG, or anything SkiaSharp decodes).</summary>
    /// <returns>28 x 28 bytes, row-major, 0 = background, 255 = ink.</returns>
    /// <exception cref="ImageInputException">The file is missing, not a regular file, too large, unreadable, not an image,
    /// truncated or damaged, too small to hold a digit, or blank.</exception>
    public static byte[] Load(string path) =>
        FromImage(InputFile.ReadAllBytes(path, MaxFileBytes, (p, problem) => new ImageInputException(p, problem)), path);

    /// <summary>Converts an encoded picture held in memory (an upload, a canvas's PNG), as <see cref="Load"/> converts a file.</summary>
    /// <param name="encoded">The picture's file bytes: PNG, JPEG, or anything SkiaSharp decodes; at most <see cref="MaxFileBytes"/>.</param>
    /// <param name="name">Names the picture in errors.</param>
    /// <returns>28 x 28 bytes, row-major, 0 = background, 255 = ink.</returns>
    /// <exception cref="ImageInputException">Too large, not an image, truncated or damaged, too small to hold a digit, or blank.</exception>
    public static byte[] FromImage(byte[] encoded, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(encoded);
        if (encoded.Length > MaxFileBytes)
            throw new ImageInputException(name, $"is {encoded.Length} bytes; expected at most {MaxFileBytes} ({MaxFileBytes >> 20} MiB)");
        var (gray, height, width) = Decode(encoded, name);
        return FromGray(gray, height, width, name);
    }

    /// <summary>Converts a grayscale image (row-major, 0 = black, 255 = white) to a 28x28 MNIST-style digit.</summary>
    /// <param name="gray">height x width pixels, each from 0 to 255.</param>
    /// <param name="height">Rows.</param>
    /// <param name="width">Columns.</param>
    /// <param name="name">Names the image in errors.</param>
    /// <returns>28 x 28 bytes, row-major, 0 = background, 255 = ink.</returns>
    /// <exception cref="ArgumentException">The pixels do not fill height x width, or one is not a number from 0 to 255.</exception>
    /// <exception cref="ImageInputException">The image is smaller than <see cref="MinSide"/> on a side, or blank.</exception>
    public static byte[] FromGray(float[] gray, int height, int width, string name = "image")
    {
        ArgumentNullException.ThrowIfNull(gray);
        if (height < 1 || width < 1 || (long)height * width != gray.Length)
            throw new ArgumentException($"expected {height}x{width} = {(long)height * width} pixels; received {gray.Length}.", nameof(gray));
        var bad = Array.FindIndex(gray, v => !(v >= 0 && v <= 255));
        if (bad >= 0)
            throw new ArgumentException($"pixel {bad} (row {bad / width}, column {bad % width}) is {gray[bad]}; expected a number from 0 (black) to 255 (white).", nameof(gray));
        if (gray.Max() is > 0 and <= 1)
            throw new ArgumentException("every pixel is at most 1; expected 0 (black) to 255 (white): multiply the image by 255.", nameof(gray));
        if (height < MinSide || width < MinSide)
            throw new ImageInputException(name, $"is {width}x{height} pixels; expected at least {MinSide}x{MinSide} to hold a digit");
        var x = (float[])gray.Clone();

        // MNIST digits are light on dark; a dark-on-light picture (ink on paper) is inverted. The border
        // tells the background.
        double border = 0;
        for (var c = 0; c < width; c++) border += x[c] + x[(height - 1) * width + c];
        for (var r = 0; r < height; r++) border += x[r * width] + x[r * width + width - 1];
        if (border / (2 * (width + height)) > 127)
            for (var i = 0; i < x.Length; i++) x[i] = 255 - x[i];
        var min = x.Min();
        for (var i = 0; i < x.Length; i++) x[i] = Math.Max(x[i] - min, 0);

        var max = x.Max();
        if (max < 16) throw new ImageInputException(name, "the image is blank: no digit stands out from the background") { IsBlank = true };
        // Ink: pixels above a fifth of the brightest; the digit's box is where any is.
        int top = height, bottom = -1, left = width, right = -1;
        for (var r = 0; r < height; r++)
            for (var c = 0; c < width; c++)
                if (x[r * width + c] > max * 0.2f)
                    (top, bottom, left, right) = (Math.Min(top, r), Math.Max(bottom, r), Math.Min(left, c), Math.Max(right, c));
        var (h, w) = (bottom - top + 1, right - left + 1);
        var digit = new float[h * w];
        for (var r = 0; r < h; r++) Array.Copy(x, (top + r) * width + left, digit, r * w, w);

        // Fit into 20x20, keeping the aspect ratio (area averaging when shrinking, bilinear when growing).
        var scale = 20.0 / Math.Max(h, w);
        var (newH, newW) = (Math.Max(1, (int)Math.Round(h * scale)), Math.Max(1, (int)Math.Round(w * scale)));
        var fitted = scale < 1 ? Interpolate.Area(digit, h, w, newH, newW) : Interpolate.Bilinear(digit, h, w, newH, newW);
        var gain = 255f / Math.Max(fitted.Max(), 1e-6f);
        for (var i = 0; i < fitted.Length; i++) fitted[i] *= gain;

        // Place by the centre of mass at the middle of 28x28.
        double total = 0, rowMoment = 0, columnMoment = 0;
        for (var r = 0; r < newH; r++)
            for (var c = 0; c < newW; c++)
            {
                var v = fitted[r * newW + c];
                total += v;
                rowMoment += v * r;
                columnMoment += v * c;
            }
        var offY = (int)Math.Clamp(Math.Round(Size / 2 - rowMoment / total), 0, Size - newH);
        var offX = (int)Math.Clamp(Math.Round(Size / 2 - columnMoment / total), 0, Size - newW);
        var canvas = new byte[Size * Size];
        for (var r = 0; r < newH; r++)
            for (var c = 0; c < newW; c++)
                canvas[(offY + r) * Size + offX + c] = (byte)Math.Clamp(MathF.Round(fitted[r * newW + c]), 0, 255);
        return canvas;
    }

    /// <summary>
    /// Decodes the image into a gray grid of at most <see cref="WorkingSide"/> pixels on the long side, upright, refusing
    /// one whose data ends early or is damaged: SkiaSharp's plain decoding fills what it could not read with blank rows
    /// and reports success, so a cut-off photo would still be classified.
    /// </summary>
    /// <exception cref="ImageInputException">Not an image, too many pixels, truncated or damaged.</exception>
    /// <exception cref="InvalidOperationException">SkiaSharp's native library is missing: the application must reference it.</exception>
    static (float[] Gray, int Height, int Width) Decode(byte[] bytes, string path)
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
            if ((long)width * height > MaxPixels)
                throw new ImageInputException(path, $"is {width}x{height} pixels; expected at most {MaxPixels / 1_000_000} megapixels");
            if (width < MinSide || height < MinSide)
                throw new ImageInputException(path, $"is {width}x{height} pixels; expected at least {MinSide}x{MinSide} to hold a digit");

            // JPEG decodes natively at 1/2, 1/4 and 1/8 of its size: the smallest that keeps enough pixels.
            var size = new SKSizeI(width, height);
            foreach (var scale in new[] { 0.125f, 0.25f, 0.5f })
            {
                var scaled = codec.GetScaledDimensions(scale);
                if (Math.Max(scaled.Width, scaled.Height) >= WorkingSide) { size = scaled; break; }
            }
            var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
            var grid = new GrayGrid(size.Width, size.Height, WorkingSide);
            var result = codec.StartScanlineDecode(info) is SKCodecResult.Success && codec.ScanlineOrder == SKCodecScanlineOrder.TopDown
                ? DecodeRows(codec, info, grid)
                : DecodeWhole(codec, info, grid, path);
            // A PNG cut after its last pixel row still decodes; its end chunk tells that the file is whole.
            if (result is SKCodecResult.Success && codec.EncodedFormat == SKEncodedImageFormat.Png && !bytes.AsSpan().EndsWith(PngEnd))
                result = SKCodecResult.IncompleteInput;
            if (result is not SKCodecResult.Success)
                throw new ImageInputException(path, result is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput
                    ? $"is truncated or damaged: the {codec.EncodedFormat} data ends early or is corrupt ({bytes.Length} bytes)"
                    : $"cannot be decoded as {codec.EncodedFormat} ({result})");
            return grid.Upright(codec.EncodedOrigin);
        }
    }

    /// <summary>Decodes a row at a time into <paramref name="grid"/>: memory of one row, whatever the height.</summary>
    static SKCodecResult DecodeRows(SKCodec codec, SKImageInfo info, GrayGrid grid)
    {
        var row = new byte[info.RowBytes];
        var pinned = GCHandle.Alloc(row, GCHandleType.Pinned);
        try
        {
            for (var y = 0; y < info.Height; y++)
            {
                if (codec.GetScanlines(pinned.AddrOfPinnedObject(), 1, info.RowBytes) != 1) return SKCodecResult.IncompleteInput;
                grid.AddRow(y, row);
            }
            return SKCodecResult.Success;
        }
        finally
        {
            pinned.Free();
        }
    }

    /// <summary>The whole image at once, for the formats Skia cannot decode by rows (PNG, WebP): bounded to
    /// <see cref="MaxWholePixels"/>, since it holds every pixel.</summary>
    static SKCodecResult DecodeWhole(SKCodec codec, SKImageInfo info, GrayGrid grid, string path)
    {
        if ((long)info.Width * info.Height > MaxWholePixels)
            throw new ImageInputException(path, $"is {info.Width}x{info.Height} pixels; expected at most {MaxWholePixels / 1_000_000} megapixels for a {codec.EncodedFormat} (a JPEG may have {MaxPixels / 1_000_000}, read at a reduced scale)");
        using var bitmap = new SKBitmap(info);
        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result is not SKCodecResult.Success) return result;
        var bytes = bitmap.GetPixelSpan();
        for (var y = 0; y < info.Height; y++) grid.AddRow(y, bytes.Slice(y * info.RowBytes, info.RowBytes));
        return result;
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
}
