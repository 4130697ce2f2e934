using ScottPlot;
using LeNetTorchSharp.Training;

namespace LeNetTorchSharp.Visualization;

/// <summary>Loss and accuracy per epoch as PNG line charts.</summary>
public static class TrainingCurves
{
    /// <summary>Writes <c>loss.png</c> (train and test loss) and <c>accuracy.png</c> (test accuracy) into <paramref name="folder"/>.</summary>
    /// <returns>The two paths.</returns>
    public static (string Loss, string Accuracy) Save(IReadOnlyList<EpochMetrics> epochs, string folder, string title = "")
    {
        ArgumentNullException.ThrowIfNull(epochs);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        if (epochs.Count == 0) throw new ArgumentException("no epochs to plot.", nameof(epochs));
        double[] x = [.. epochs.Select(e => (double)e.Epoch)];

        var loss = new Plot();
        loss.Add.Scatter(x, [.. epochs.Select(e => e.TrainLoss)]).LegendText = "train loss";
        loss.Add.Scatter(x, [.. epochs.Select(e => e.TestLoss)]).LegendText = "test loss";
        loss.Title($"{title} loss".Trim());
        loss.XLabel("epoch");
        loss.YLabel("cross-entropy");
        loss.ShowLegend(Alignment.UpperRight);
        loss.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);

        var accuracy = new Plot();
        accuracy.Add.Scatter(x, [.. epochs.Select(e => e.TestAccuracy * 100)]).LegendText = "test accuracy";
        accuracy.Title($"{title} test accuracy".Trim());
        accuracy.XLabel("epoch");
        accuracy.YLabel("%");
        accuracy.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(1);

        var lossPath = Path.Combine(folder, "loss.png");
        var accuracyPath = Path.Combine(folder, "accuracy.png");
        AtomicFile.Write(lossPath, temp => loss.SavePng(temp, 800, 500));
        AtomicFile.Write(accuracyPath, temp => accuracy.SavePng(temp, 800, 500));
        return (lossPath, accuracyPath);
    }
}
