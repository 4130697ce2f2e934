using ScottPlot;
using LeNetTorchSharp.Training;

namespace LeNetTorchSharp.Plots;

/// <summary>A confusion matrix as a PNG heatmap with the count in every cell.</summary>
public static class ConfusionMatrixPlot
{
    /// <summary>Writes the figure (rows: true class, columns: predicted class).</summary>
    public static void Save(ConfusionMatrix matrix, string path)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var n = matrix.Classes.Count;
        // Colour by the share of each true class, so rare confusions stay visible beside the diagonal.
        var shares = new double[n, n];
        for (var t = 0; t < n; t++)
        {
            double total = 0;
            for (var p = 0; p < n; p++) total += matrix.Counts[t, p];
            for (var p = 0; p < n; p++) shares[t, p] = total == 0 ? 0 : Math.Sqrt(matrix.Counts[t, p] / total);
        }

        var plot = new Plot();
        // Blues runs from dark (0) to white (1): colour by 1 - share so frequent cells are dark.
        var shade = new double[n, n];
        for (var t = 0; t < n; t++)
            for (var p = 0; p < n; p++)
                shade[t, p] = 1 - shares[t, p];
        var heatmap = plot.Add.Heatmap(shade);
        heatmap.Colormap = new ScottPlot.Colormaps.Blues();
        for (var t = 0; t < n; t++)
            for (var p = 0; p < n; p++)
            {
                var label = plot.Add.Text(matrix.Counts[t, p].ToString(), p, n - 1 - t);
                label.LabelAlignment = Alignment.MiddleCenter;
                label.LabelFontSize = 12;
                label.LabelFontColor = shares[t, p] > 0.5 ? Colors.White : Colors.Black;
            }
        double[] ticks = [.. Enumerable.Range(0, n).Select(i => (double)i)];
        plot.Axes.Bottom.SetTicks(ticks, [.. matrix.Classes]);
        plot.Axes.Left.SetTicks([.. ticks.Reverse()], [.. matrix.Classes]);
        plot.Axes.Bottom.TickLabelStyle.Rotation = matrix.Classes.Any(c => c.Length > 2) ? 30 : 0;
        plot.Axes.Bottom.TickLabelStyle.Alignment = matrix.Classes.Any(c => c.Length > 2) ? Alignment.MiddleLeft : Alignment.UpperCenter;
        plot.XLabel("predicted");
        plot.YLabel("true");
        plot.Title("Confusion matrix (test set)");
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Axes.Bottom.MinimumSize = matrix.Classes.Any(c => c.Length > 2) ? 90 : 0;
        AtomicFile.Write(path, temp => plot.SavePng(temp, 800, 760));
    }
}
