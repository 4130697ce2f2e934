using SkiaSharp;

namespace LeNetTorchSharp.Inference;

/// <summary>
/// A picture's rows of RGBA pixels, reduced as they arrive to a gray grid of at most a given long side (each cell the
/// average of a square block), then made upright by the picture's EXIF orientation.
/// </summary>
/// <remarks>
/// Each cell keeps its alpha-weighted luminance and its alpha, so that transparency can be resolved once the whole
/// picture is known: ink on a transparent background shows against white paper if it is dark and against black if it
/// is light, whichever makes the picture's contrast larger (white ink on a transparent canvas is a digit, not a blank).
/// </remarks>
internal sealed class GrayGrid
{
    readonly int block;
    readonly int width;
    readonly float[] inked;
    readonly float[] alpha;
    readonly int[] count;

    /// <summary>Columns and rows of the grid.</summary>
    public int Width { get; }

    public int Height { get; }

    /// <summary>A grid for a <paramref name="sourceWidth"/> x <paramref name="sourceHeight"/> picture, at most <paramref name="longSide"/> cells on its long side.</summary>
    public GrayGrid(int sourceWidth, int sourceHeight, int longSide)
    {
        block = Math.Max(1, (Math.Max(sourceWidth, sourceHeight) + longSide - 1) / longSide);
        width = sourceWidth;
        (Width, Height) = ((sourceWidth + block - 1) / block, (sourceHeight + block - 1) / block);
        inked = new float[Width * Height];
        alpha = new float[Width * Height];
        count = new int[Width * Height];
    }

    /// <summary>Adds row <paramref name="y"/> of the picture, unpremultiplied RGBA bytes.</summary>
    public void AddRow(int y, ReadOnlySpan<byte> rgba)
    {
        var cells = y / block * Width;
        for (var x = 0; x < width; x++)
        {
            var pixel = rgba.Slice(4 * x, 4);
            var a = pixel[3] / 255f;
            var cell = cells + x / block;
            inked[cell] += (0.299f * pixel[0] + 0.587f * pixel[1] + 0.114f * pixel[2]) * a;
            alpha[cell] += a;
            count[cell]++;
        }
    }

    /// <summary>The gray grid, 0 black to 255 white, turned upright by <paramref name="origin"/> (EXIF orientation 1 to 8).</summary>
    public (float[] Gray, int Height, int Width) Upright(SKEncodedOrigin origin)
    {
        var overWhite = new float[inked.Length];
        var overBlack = new float[inked.Length];
        for (var i = 0; i < inked.Length; i++)
        {
            var n = Math.Max(count[i], 1);
            overWhite[i] = (inked[i] + 255f * (n - alpha[i])) / n;
            overBlack[i] = inked[i] / n;
        }
        var gray = Spread(overBlack) > Spread(overWhite) ? overBlack : overWhite;
        return Orient(gray, Width, Height, origin);
    }

    static double Spread(float[] values)
    {
        double sum = 0, squares = 0;
        foreach (var v in values) (sum, squares) = (sum + v, squares + (double)v * v);
        var mean = sum / values.Length;
        return squares / values.Length - mean * mean;
    }

    /// <summary>The picture as it is meant to be seen: EXIF's orientations flip and turn the stored pixels.</summary>
    internal static (float[] Gray, int Height, int Width) Orient(float[] stored, int w, int h, SKEncodedOrigin origin)
    {
        // Orientations 5 to 8 swap the sides.
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (dw, dh) = swap ? (h, w) : (w, h);
        var shown = new float[stored.Length];
        for (var y = 0; y < dh; y++)
            for (var x = 0; x < dw; x++)
            {
                var (sx, sy) = origin switch
                {
                    SKEncodedOrigin.TopRight => (w - 1 - x, y),
                    SKEncodedOrigin.BottomRight => (w - 1 - x, h - 1 - y),
                    SKEncodedOrigin.BottomLeft => (x, h - 1 - y),
                    SKEncodedOrigin.LeftTop => (y, x),
                    SKEncodedOrigin.RightTop => (y, h - 1 - x),
                    SKEncodedOrigin.RightBottom => (w - 1 - y, h - 1 - x),
                    SKEncodedOrigin.LeftBottom => (w - 1 - y, x),
                    _ => (x, y),
                };
                shown[y * dw + x] = stored[sy * w + sx];
            }
        return (shown, dh, dw);
    }
}
