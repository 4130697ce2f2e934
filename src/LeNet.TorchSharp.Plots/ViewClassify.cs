using ScottPlot;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Plots;

/// <summary>
/// The tutorial's <c>view_classify</c>: an image beside a horizontal bar chart of its class probabilities, as a PNG.
/// </summary>
public static class ViewClassify
{
    /// <summary>Writes <see cref="Render"/>'s figure to <paramref name="path"/> (a PNG), atomically.</summary>
    /// <exception cref="ArgumentException">The image or the probabilities have the wrong shape, or the names do not match the classes.</exception>
    public static void Save(Tensor image, Tensor probabilities, string path, IReadOnlyList<string>? classNames = null, int width = 900, int height = 450) =>
        Render(image, probabilities, classNames, width, height).Save(path);

    /// <summary>Draws the figure.</summary>
    /// <param name="image">One single-channel image: H x W, 1 x H x W or a flat H*W vector of a square image.</param>
    /// <param name="probabilities">One probability per class (1 x C or C), e.g. <c>softmax(logits, 1)</c>.</param>
    /// <param name="classNames">Bar labels; default the class indices.</param>
    /// <param name="width">Figure width in pixels.</param>
    /// <param name="height">Figure height in pixels.</param>
    /// <exception cref="ArgumentException">The image or the probabilities have the wrong shape, or the names do not match the classes.</exception>
    public static PngImage Render(Tensor image, Tensor probabilities, IReadOnlyList<string>? classNames = null, int width = 900, int height = 450)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(probabilities);
        var (rows, cols, gray) = ImagePng.ToGrayBytes(AsImage(image));
        double[] p;
        using (NewDisposeScope()) p = probabilities.detach().cpu().to(ScalarType.Float64).flatten().data<double>().ToArray();
        var names = classNames ?? Enumerable.Range(0, p.Length).Select(i => i.ToString()).ToArray();
        if (names.Count != p.Length)
            throw new ArgumentException($"{p.Length} probabilities but {names.Count} class names.", nameof(classNames));

        var multiplot = new Multiplot();
        multiplot.AddPlots(2);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Columns();

        var picture = multiplot.GetPlot(0);
        var pixels = new double[rows, cols];
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
                pixels[r, c] = gray[r * cols + c];
        var heatmap = picture.Add.Heatmap(pixels);
        heatmap.Colormap = new ScottPlot.Colormaps.Grayscale();
        picture.Axes.SquareUnits();
        picture.HideGrid();
        picture.Axes.Frameless();
        picture.Layout.Frameless();

        var chart = multiplot.GetPlot(1);
        var bars = chart.Add.Bars(p);
        bars.Horizontal = true;
        // Class 0 at the top, as in the tutorial's figure.
        for (var i = 0; i < p.Length; i++) bars.Bars[i].Position = p.Length - 1 - i;
        chart.Axes.Left.SetTicks(Enumerable.Range(0, p.Length).Select(i => (double)(p.Length - 1 - i)).ToArray(), names.ToArray());
        chart.Axes.SetLimitsX(0, 1.1);
        chart.Axes.SetLimitsY(-0.7, p.Length - 0.3);
        chart.Title("Class Probability");

        return new PngImage(multiplot.Render(width, height).GetImageBytes(ImageFormat.Png));
    }

    static Tensor AsImage(Tensor image)
    {
        if (image.dim() != 1) return image;
        var side = (long)Math.Round(Math.Sqrt(image.shape[0]));
        if (side * side != image.shape[0])
            throw new ArgumentException($"a flat image must be square (e.g. 784 = 28 x 28); received {image.shape[0]} values.", nameof(image));
        return image.reshape(side, side);
    }
}
