namespace LeNetTorchSharp.Inference;

/// <summary>
/// <c>F.interpolate</c>'s two modes for one gray image, in plain .NET: area (<c>adaptive_avg_pool2d</c>) and bilinear
/// with <c>align_corners=False</c>, each computed as libtorch computes it, so that a byte image resized here and one
/// resized by libtorch agree (they do exactly for MNIST's 28 → 32, whose weights are sixteenths).
/// </summary>
internal static class Interpolate
{
    /// <summary>Each output pixel the mean of the input pixels its cell covers (cells from floor(i·in/out) to ceil((i+1)·in/out)).</summary>
    public static float[] Area(float[] x, int height, int width, int outHeight, int outWidth)
    {
        var y = new float[outHeight * outWidth];
        for (var r = 0; r < outHeight; r++)
        {
            int r0 = r * height / outHeight, r1 = ((r + 1) * height + outHeight - 1) / outHeight;
            for (var c = 0; c < outWidth; c++)
            {
                int c0 = c * width / outWidth, c1 = ((c + 1) * width + outWidth - 1) / outWidth;
                var sum = 0f;
                for (var i = r0; i < r1; i++)
                    for (var j = c0; j < c1; j++)
                        sum += x[i * width + j];
                y[r * outWidth + c] = sum / ((r1 - r0) * (c1 - c0));
            }
        }
        return y;
    }

    /// <summary>Bilinear with pixel centres aligned (<c>align_corners=False</c>), no antialiasing: libtorch's default.</summary>
    public static float[] Bilinear(float[] x, int height, int width, int outHeight, int outWidth)
    {
        var (rows, rowWeights) = Taps(height, outHeight);
        var (cols, colWeights) = Taps(width, outWidth);
        var y = new float[outHeight * outWidth];
        for (var r = 0; r < outHeight; r++)
        {
            int top = rows[r, 0] * width, bottom = rows[r, 1] * width;
            for (var c = 0; c < outWidth; c++)
            {
                int left = cols[c, 0], right = cols[c, 1];
                float w0 = colWeights[c, 0], w1 = colWeights[c, 1];
                var upper = x[top + left] * w0 + x[top + right] * w1;
                var lower = x[bottom + left] * w0 + x[bottom + right] * w1;
                y[r * outWidth + c] = upper * rowWeights[r, 0] + lower * rowWeights[r, 1];
            }
        }
        return y;
    }

    /// <summary>For each output index, the two input indices it reads and their weights.</summary>
    static (int[,] Index, float[,] Weight) Taps(int size, int outSize)
    {
        var scale = (float)size / outSize;
        var index = new int[outSize, 2];
        var weight = new float[outSize, 2];
        for (var i = 0; i < outSize; i++)
        {
            var source = Math.Max(scale * (i + 0.5f) - 0.5f, 0f);
            var i0 = (int)source;
            var lambda = Math.Clamp(source - i0, 0f, 1f);
            (index[i, 0], index[i, 1]) = (i0, i0 < size - 1 ? i0 + 1 : i0);
            (weight[i, 0], weight[i, 1]) = (1f - lambda, lambda);
        }
        return (index, weight);
    }
}
