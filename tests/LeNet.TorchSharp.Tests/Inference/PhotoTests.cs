using System.Buffers.Binary;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Tests.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Inference;

/// <summary>
/// Pictures as people take them: phone photos whose pixels are stored turned, with the EXIF orientation that says
/// how to show them; ink on transparent canvases; pictures too thin, too large, or not files at all.
/// </summary>
public class PhotoTests
{
    /// <summary>A "7" with a bar at its foot, dark on light, upright: no flip or turn of it looks like itself.</summary>
    static SKBitmap Upright()
    {
        var bitmap = new SKBitmap(160, 240);
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.White);
        using var pen = new SKPaint { Color = SKColors.Black, StrokeWidth = 18, IsAntialias = true, StrokeCap = SKStrokeCap.Round };
        canvas.DrawLine(30, 40, 130, 40, pen);
        canvas.DrawLine(130, 40, 60, 200, pen);
        canvas.DrawLine(40, 200, 90, 200, pen);
        return bitmap;
    }

    /// <summary>
    /// How a camera stores a picture it tags with EXIF orientation <paramref name="orientation"/>: the inverse of the
    /// turn or flip a viewer applies (orientation 6, "rotate 90° clockwise to show", is stored turned anticlockwise),
    /// drawn with Skia's own matrices, independent of the library's code.
    /// </summary>
    static SKBitmap Stored(SKBitmap upright, int orientation)
    {
        float w = upright.Width, h = upright.Height;
        var (matrix, swap) = orientation switch
        {
            1 => (SKMatrix.Identity, false),
            2 => (new SKMatrix(-1, 0, w, 0, 1, 0, 0, 0, 1), false),
            3 => (new SKMatrix(-1, 0, w, 0, -1, h, 0, 0, 1), false),
            4 => (new SKMatrix(1, 0, 0, 0, -1, h, 0, 0, 1), false),
            5 => (new SKMatrix(0, 1, 0, 1, 0, 0, 0, 0, 1), true),
            6 => (new SKMatrix(0, 1, 0, -1, 0, w, 0, 0, 1), true),
            7 => (new SKMatrix(0, -1, h, -1, 0, w, 0, 0, 1), true),
            8 => (new SKMatrix(0, -1, h, 1, 0, 0, 0, 0, 1), true),
            _ => throw new ArgumentOutOfRangeException(nameof(orientation)),
        };
        var stored = new SKBitmap(swap ? upright.Height : upright.Width, swap ? upright.Width : upright.Height);
        using var canvas = new SKCanvas(stored);
        canvas.SetMatrix(matrix);
        canvas.DrawBitmap(upright, 0, 0);
        return stored;
    }

    static byte[] Jpeg(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 95);
        return data.ToArray();
    }

    /// <summary>The JPEG with an EXIF APP1 segment after its start marker, holding the one Orientation tag (0x0112),
    /// laid out as cameras write it: "Exif\0\0", a little-endian TIFF header, one IFD entry.</summary>
    static byte[] WithOrientation(byte[] jpeg, int orientation)
    {
        var tiff = new byte[26];
        "II*\0"u8.CopyTo(tiff);
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(4), 8);      // first IFD at offset 8
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(8), 1);      // one entry
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(10), 0x0112); // Orientation
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(12), 3);     // SHORT
        BinaryPrimitives.WriteUInt32LittleEndian(tiff.AsSpan(14), 1);     // one value
        BinaryPrimitives.WriteUInt16LittleEndian(tiff.AsSpan(18), (ushort)orientation);
        // Next IFD offset (0) at 22..25 stays zero.
        byte[] exif = [.. "Exif\0\0"u8, .. tiff];
        var segment = new byte[4 + exif.Length];
        (segment[0], segment[1]) = (0xFF, 0xE1);
        BinaryPrimitives.WriteUInt16BigEndian(segment.AsSpan(2), (ushort)(exif.Length + 2));
        exif.CopyTo(segment, 4);
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    static double MeanDifference(Tensor a, Tensor b) => (a.to(ScalarType.Float32) - b.to(ScalarType.Float32)).abs().mean().item<float>();

    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    [TestCase(5)]
    [TestCase(6)]
    [TestCase(7)]
    [TestCase(8)]
    public void A_phone_photo_is_read_upright_whatever_its_EXIF_orientation(int orientation)
    {
        using var temp = new TempFolder();
        using var upright = Upright();
        using var stored = Stored(upright, orientation);
        File.WriteAllBytes(temp.File("upright.jpg"), WithOrientation(Jpeg(upright), 1));
        File.WriteAllBytes(temp.File("photo.jpg"), WithOrientation(Jpeg(stored), orientation));
        File.WriteAllBytes(temp.File("untagged.jpg"), Jpeg(stored));

        using var expected = DigitImage.Load(temp.File("upright.jpg"));
        using var photo = DigitImage.Load(temp.File("photo.jpg"));
        using var untagged = DigitImage.Load(temp.File("untagged.jpg"));

        TestContext.Out.WriteLine($"orientation {orientation}: tagged {MeanDifference(photo, expected):F2}, untagged {MeanDifference(untagged, expected):F2}");
        Assert.That(MeanDifference(photo, expected), Is.LessThan(6), "the tagged photo reads as the upright picture");
        Assert.That(MeanDifference(untagged, expected), Is.GreaterThan(20), "the same pixels without the tag read as another picture");
    }

    static string Png(TempFolder temp, string name, SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(temp.File(name), data.ToArray());
        return temp.File(name);
    }

    /// <summary>The upright "7" in <paramref name="ink"/> on a fully transparent canvas, as a drawing app exports it.</summary>
    static SKBitmap OnTransparent(SKColor ink)
    {
        using var upright = Upright();
        var bitmap = new SKBitmap(new SKImageInfo(upright.Width, upright.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        for (var y = 0; y < upright.Height; y++)
            for (var x = 0; x < upright.Width; x++)
                bitmap.SetPixel(x, y, ink.WithAlpha((byte)(255 - upright.GetPixel(x, y).Red)));
        return bitmap;
    }

    [Test]
    public void Ink_of_either_colour_on_a_transparent_canvas_is_the_digit_drawn()
    {
        using var temp = new TempFolder();
        using var upright = Upright();
        using var white = OnTransparent(SKColors.White);
        using var black = OnTransparent(SKColors.Black);
        using var expected = DigitImage.Load(Png(temp, "paper.png", upright));
        using var whiteInk = DigitImage.Load(Png(temp, "white.png", white));
        using var blackInk = DigitImage.Load(Png(temp, "black.png", black));
        Assert.That(MeanDifference(whiteInk, expected), Is.LessThan(3), "white ink is not blank");
        Assert.That(MeanDifference(blackInk, expected), Is.LessThan(3));
    }

    [TestCase(30000, 1)]
    [TestCase(1, 500)]
    [TestCase(7, 7)]
    public void A_picture_too_thin_or_too_small_to_hold_a_digit_is_refused_with_its_size(int width, int height)
    {
        using var temp = new TempFolder();
        using var bitmap = new SKBitmap(width, height);
        bitmap.Erase(SKColors.Black);
        bitmap.SetPixel(0, 0, SKColors.White);
        var path = Png(temp, "thin.png", bitmap);
        Assert.That(Assert.Throws<ImageInputException>(() => DigitImage.Load(path))!.Message,
            Is.EqualTo($"{path}: is {width}x{height} pixels; expected at least 8x8 to hold a digit"));
    }

    [Test]
    public void A_64_megapixel_photo_reads_as_the_same_digit_drawn_smaller_and_a_PNG_that_size_is_refused()
    {
        using var temp = new TempFolder();
        Tensor Digit(int side, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg)
        {
            using var surface = SKSurface.Create(new SKImageInfo(side, side));
            surface.Canvas.Clear(SKColors.White);
            surface.Canvas.Scale(side / 800f);
            using var pen = new SKPaint { Color = SKColors.Black, StrokeWidth = 60, IsAntialias = true, StrokeCap = SKStrokeCap.Round };
            surface.Canvas.DrawLine(250, 150, 550, 150, pen);
            surface.Canvas.DrawLine(550, 150, 350, 650, pen);
            using var image = surface.Snapshot();
            using var encoded = image.Encode(format, 90);
            var path = temp.File($"{side}.{format}");
            File.WriteAllBytes(path, encoded.ToArray());
            return DigitImage.Load(path);
        }
        using var small = Digit(800);
        using var huge = Digit(8000);
        Assert.That(MeanDifference(huge, small), Is.LessThan(3));
        Assert.That(Assert.Throws<ImageInputException>(() => Digit(8000, SKEncodedImageFormat.Png))!.Message,
            Does.EndWith("8000.Png: is 8000x8000 pixels; expected at most 25 megapixels for a Png (a JPEG may have 100, read at a reduced scale)"));
    }

    [Test]
    public void More_than_100_megapixels_are_refused_before_any_is_decoded()
    {
        using var temp = new TempFolder();
        using var bitmap = new SKBitmap(11000, 10000, SKColorType.Gray8, SKAlphaType.Opaque);
        var path = Png(temp, "huge.png", bitmap);
        Assert.That(Assert.Throws<ImageInputException>(() => DigitImage.Load(path))!.Message,
            Is.EqualTo($"{path}: is 11000x10000 pixels; expected at most 100 megapixels"));
    }
}
