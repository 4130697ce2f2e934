using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Training;

/// <summary>Counts of (true class, predicted class) over a labelled set, with per-class accuracy.</summary>
public sealed class ConfusionMatrix
{
    /// <summary>Class names, index = label.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary><c>Counts[t, p]</c>: samples of true class t predicted as p.</summary>
    public long[,] Counts { get; }

    /// <summary>Builds the matrix from int64 labels and predictions of equal length.</summary>
    /// <exception cref="ArgumentException">The lengths differ or a value is outside the classes.</exception>
    public ConfusionMatrix(Tensor labels, Tensor predictions, IReadOnlyList<string> classes)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(classes);
        long[] truth, predicted;
        // Temporaries in a scope: one left to the finalizer can be freed while its data is still being read.
        using (NewDisposeScope())
        {
            truth = labels.cpu().to(ScalarType.Int64).data<long>().ToArray();
            predicted = predictions.cpu().to(ScalarType.Int64).data<long>().ToArray();
        }
        if (truth.Length != predicted.Length)
            throw new ArgumentException($"{truth.Length} labels but {predicted.Length} predictions.", nameof(predictions));
        Classes = classes;
        Counts = new long[classes.Count, classes.Count];
        for (var i = 0; i < truth.Length; i++)
        {
            if (truth[i] < 0 || truth[i] >= classes.Count || predicted[i] < 0 || predicted[i] >= classes.Count)
                throw new ArgumentException($"sample {i}: label {truth[i]}, prediction {predicted[i]}; expected 0 to {classes.Count - 1}.", nameof(labels));
            Counts[truth[i], predicted[i]]++;
        }
    }

    /// <summary>Fraction of class <paramref name="label"/>'s samples predicted correctly (NaN if it has none).</summary>
    public double Accuracy(int label)
    {
        long total = 0;
        for (var p = 0; p < Classes.Count; p++) total += Counts[label, p];
        return total == 0 ? double.NaN : (double)Counts[label, label] / total;
    }

    /// <summary>The matrix as text (rows: true class, columns: predicted), then accuracy per class.</summary>
    public override string ToString()
    {
        var width = Math.Max(6, Classes.Max(c => c.Length) + 1);
        var text = new StringBuilder();
        text.Append("true \\ predicted".PadRight(width + 6));
        foreach (var name in Classes) text.Append(Short(name).PadLeft(7));
        text.AppendLine();
        for (var t = 0; t < Classes.Count; t++)
        {
            text.Append(Classes[t].PadRight(width + 6));
            for (var p = 0; p < Classes.Count; p++) text.Append(Counts[t, p].ToString(CultureInfo.InvariantCulture).PadLeft(7));
            text.AppendLine();
        }
        text.AppendLine();
        text.AppendLine("accuracy per class");
        for (var t = 0; t < Classes.Count; t++)
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"  {Classes[t].PadRight(width)} {Accuracy(t) * 100,6:F2}%"));
        return text.ToString();
    }

    static string Short(string name) => name.Length <= 6 ? name : name[..6];
}
