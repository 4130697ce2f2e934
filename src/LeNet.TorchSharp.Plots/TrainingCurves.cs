using ScottPlot;

namespace LeNetTorchSharp.Plots;

/// <summary>One point of the training curves.</summary>
/// <param name="Epoch">The epoch, counting from 1.</param>
/// <param name="TrainLoss">Mean training loss over the epoch.</param>
/// <param name="TestLoss">Mean test loss after the epoch.</param>
/// <param name="TestAccuracy">Test accuracy after the epoch, 0 to 1.</param>
public readonly record struct EpochScores(int Epoch, double TrainLoss, double TestLoss, double TestAccuracy);

/// <summary>Loss and accuracy per epoch as PNG line charts.</summary>
public static class TrainingCurves
{
    /// <summary>Writes <c>loss.png</c> (train and test loss) and <c>accuracy.png</c> (test accuracy) into <paramref name="folder"/>.</summary>
    /// <returns>The two paths.</returns>
    public static (string Loss, string Accuracy) Save(IReadOnlyList<EpochScores> epochs, string folder, string title = "")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var (loss, accuracy) = Render(epochs, title);
        var lossPath = Path.Combine(folder, "loss.png");
        var accuracyPath = Path.Combine(folder, "accuracy.png");
        loss.Save(lossPath);
        accuracy.Save(accuracyPath);
        return (lossPath, accuracyPath);
    }

    /// <summary>The two charts: train and test loss, and test accuracy, per epoch.</summary>
    /// <exception cref="ArgumentException">There are no epochs.</exception>
    public static (PngImage Loss, PngImage Accuracy) Render(IReadOnlyList<EpochScores> epochs, string title = "")
    {
        ArgumentNullException.ThrowIfNull(epochs);
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

        return (new PngImage(loss.GetImageBytes(800, 500, ImageFormat.Png)), new PngImage(accuracy.GetImageBytes(800, 500, ImageFormat.Png)));
    }
}
