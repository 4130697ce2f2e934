using ScottPlot;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Plots;

/// <summary>The test images the model got wrong with the most confidence, in a grid, each with its label and prediction.</summary>
public static class WrongPredictionsGrid
{
    /// <summary>Writes the grid.</summary>
    /// <param name="images">N x 1 x H x W (any dtype; drawn min-to-max).</param>
    /// <param name="labels">N true labels.</param>
    /// <param name="probabilities">N x C class probabilities.</param>
    /// <param name="classes">Class names.</param>
    /// <param name="path">PNG to write.</param>
    /// <param name="count">How many images at most (a square grid).</param>
    /// <returns>How many wrong predictions were drawn.</returns>
    public static int Save(Tensor images, Tensor labels, Tensor probabilities, IReadOnlyList<string> classes, string path, int count = 16)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(probabilities);
        ArgumentNullException.ThrowIfNull(classes);
        using var scope = NewDisposeScope();
        var (confidence, predicted) = probabilities.cpu().max(1);
        var truth = labels.cpu();
        var wrong = predicted.ne(truth).nonzero().flatten();
        var order = confidence.index_select(0, wrong).argsort(descending: true);
        var chosen = wrong.index_select(0, order).data<long>().ToArray().Take(count).ToArray();

        var side = (int)Math.Ceiling(Math.Sqrt(Math.Max(chosen.Length, 1)));
        var multiplot = new Multiplot();
        multiplot.AddPlots(Math.Max(chosen.Length, 1));
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(side, side);
        for (var i = 0; i < chosen.Length; i++)
        {
            var index = chosen[i];
            var (rows, cols, gray) = ImagePng.ToGrayBytes(images[index]);
            var pixels = new double[rows, cols];
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++)
                    pixels[r, c] = gray[r * cols + c];
            var plot = multiplot.GetPlot(i);
            plot.Add.Heatmap(pixels).Colormap = new ScottPlot.Colormaps.Grayscale();
            plot.Axes.Frameless();
            plot.HideGrid();
            plot.Title($"true {classes[(int)truth[index].item<long>()]} → {classes[(int)predicted[index].item<long>()]} ({confidence[index].item<float>() * 100:F0}%)", size: 11);
        }
        if (chosen.Length == 0) multiplot.GetPlot(0).Title("no wrong predictions");
        AtomicFile.Write(path, temp => multiplot.SavePng(temp, 220 * side, 240 * side));
        return chosen.Length;
    }
}
