using System.Diagnostics;
using System.Globalization;
using LeNetTorchSharp;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Onnx;
using LeNetTorchSharp.Native;
using LeNetTorchSharp.Plots;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainMnist;

/// <summary>What a training run achieved.</summary>
/// <param name="Epochs">Every epoch of the run (including those before a resume).</param>
/// <param name="Final">Test evaluation after the last epoch.</param>
/// <param name="Device">Where it ran.</param>
/// <param name="RunFolder">Where its files are (null for a dry run).</param>
/// <param name="Elapsed">Wall-clock time of this invocation.</param>
public sealed record TrainingReport(IReadOnlyList<EpochMetrics> Epochs, Evaluation Final, string Device, string? RunFolder, TimeSpan Elapsed);

/// <summary>
/// The trainer program's job, pytorch/examples' <c>mnist/main.py</c> on the library: load the data, train,
/// evaluate and log each epoch, checkpoint, save the weights, draw the figures.
/// </summary>
/// <remarks>
/// The run folder receives <c>metrics.jsonl</c> (one line per epoch), <c>last.ckpt</c> (every epoch) and
/// <c>best.ckpt</c> (best test accuracy), <c>model.safetensors</c> (final weights with a <see cref="ModelCard"/>),
/// and, unless <see cref="RunOptions.Plots"/> is off, <c>loss.png</c>, <c>accuracy.png</c>, <c>confusion.png</c>,
/// <c>confusion.txt</c> and <c>wrong.png</c>. Every file is written atomically.
/// </remarks>
public static class TrainingJob
{
    /// <summary>Batch size for evaluation: large batches are faster, and there are no gradients to keep.</summary>
    const int EvaluationBatchSize = 256;

    /// <summary>The run description's entry for the best test accuracy so far (best.ckpt's policy).</summary>
    const string BestAccuracyKey = "best-accuracy";

    /// <summary>The run description's entries for the fingerprints of the data the run trains and tests on.</summary>
    const string TrainDataKey = "train-data", TestDataKey = "test-data";

    /// <summary>Runs a training job, writing set-up lines and one line per epoch to <paramref name="output"/>.</summary>
    /// <param name="recipe">What to train and how; when resuming, the checkpoint's own recipe.</param>
    /// <param name="options">Where and how long, and what to write.</param>
    /// <param name="output">Where the report lines go.</param>
    /// <param name="onProgress">Called every <see cref="RunOptions.LogEvery"/> batches with the epoch number and progress.</param>
    /// <exception cref="FileNotFoundException">The dataset is missing and could not be downloaded.</exception>
    /// <exception cref="CheckpointException">The checkpoint to resume from is unreadable or does not fit.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static TrainingReport Run(Recipe recipe, RunOptions options, TextWriter output, Action<int, StepProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();
        var (resumed, folder) = Preflight(recipe, options);
        using var runLock = folder is null ? null : TakeFolder(folder, resumed, options);
        var device = options.Device.Select();
        output.WriteLine($"Device: {DeviceChoices.Describe(device)} ({options.Device.ToString().ToLowerInvariant()})" +
            (NativeHeap.Retaining ? "; freed memory kept for the next step (NativeHeap)" : ""));
        manual_seed(recipe.Seed);

        var root = options.DataRoot ?? recipe.Dataset.DefaultRoot();
        var size = recipe.Model.ImageSize();
        using var train = recipe.Dataset.Load(root, train: true, options.Download, recipe.Normalization, size, device, output);
        // The one check that needs the data: a batch cannot be larger than the training set.
        if (recipe.BatchSize > train.Count)
            throw new ArgumentException($"--batch-size: expected at most the training set's {train.Count:N0} images; found {recipe.BatchSize:N0}.");
        using var test = recipe.Dataset.Load(root, train: false, options.Download, recipe.Normalization, size, device, output);
        output.WriteLine($"Data: {recipe.Dataset.DisplayName()}, {train.Count:N0} training and {test.Count:N0} test images from {Path.GetFullPath(root)}, {size}x{size}, {recipe.Normalization}");
        if (resumed is not null) SameData(resumed, train, test, options);
        var batches = (train.Count + recipe.BatchSize - 1) / recipe.BatchSize;
        if ((long)options.Epochs * batches > int.MaxValue)
            throw new ArgumentException($"--epochs: {options.Epochs:N0} epochs of {batches:N0} batches are more steps than a schedule counts ({int.MaxValue:N0}); expected fewer.");

        var card = recipe.Card(train.classes);
        using var model = recipe.Model.Create(train.classes.Count);
        model.to(device);
        using var loader = new TensorDataLoader(train, recipe.BatchSize, shuffle: true, seed: recipe.Seed);
        using var testLoader = new TensorDataLoader(test, EvaluationBatchSize);
        var optimizer = recipe.CreateOptimizer(model.parameters());
        using var average = recipe.CreateAverage(model);
        using var trainer = new Trainer(model, optimizer, recipe.CreateScheduler(optimizer, options.Epochs, loader.Count))
        {
            Average = average,
            SchedulerInterval = recipe.SchedulerInterval,
            LogEvery = options.LogEvery,
        };
        output.WriteLine(Describe(recipe, model, options.Epochs));

        if (options.DryRun)
            return DryRun(trainer, loader, test, device, clock, output);

        folder ??= DefaultRunFolder(recipe);
        AtomicFile.RemoveAbandoned(folder);
        if (options.Force && resumed is null)
            foreach (var file in RunFiles) File.Delete(Path.Combine(folder, file));
        var metrics = new MetricsLog(Path.Combine(folder, MetricsFile));
        var lastCheckpoint = Path.Combine(folder, "last.ckpt");
        var bestCheckpoint = Path.Combine(folder, "best.ckpt");
        output.WriteLine($"Run folder: {Path.GetFullPath(folder)}");

        var best = 0.0;
        var history = new List<EpochMetrics>();
        if (resumed is not null)
        {
            Checkpoint.Load(options.Resume!, trainer, loader);
            best = resumed.Run.TryGetValue(BestAccuracyKey, out var text) ? double.Parse(text, CultureInfo.InvariantCulture) : 0;
            // The epochs the checkpoint holds, once each: a kill after an epoch's line was logged but before its
            // checkpoint was saved leaves a line the resumed run is about to write again.
            var previous = new MetricsLog(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(options.Resume!))!, MetricsFile));
            history.AddRange(previous.Read().Where(m => m.Epoch <= resumed.Epochs).GroupBy(m => m.Epoch).Select(g => g.Last()).OrderBy(m => m.Epoch));
            metrics.Rewrite(history);
            output.WriteLine($"Resumed from {Path.GetFullPath(options.Resume!)} after epoch {resumed.Epochs} (step {resumed.Steps}); training to epoch {options.Epochs}");
        }

        Evaluation? last = null;
        trainer.Fit(loader, options.Epochs, (epoch, result) =>
        {
            Evaluation evaluation;
            using (average?.Applied())
                evaluation = trainer.Evaluate(testLoader);
            last = evaluation;
            var record = new EpochMetrics(epoch, result.Loss, evaluation.Loss, evaluation.Accuracy, result.Elapsed.TotalSeconds, result.SamplesPerSecond, result.LearningRate);
            history.Add(record);
            metrics.Append(record);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch,2}/{options.Epochs}  train loss {result.Loss:F4}  test loss {evaluation.Loss:F4}  " +
                $"test acc {evaluation.Accuracy * 100:F2}%  {result.Elapsed.TotalSeconds:F1}s  {result.SamplesPerSecond:N0} samples/s  lr {result.LearningRate:G3}"));

            var improved = evaluation.Accuracy > best;
            best = Math.Max(best, evaluation.Accuracy);
            var run = new Dictionary<string, string>(recipe.ToRun())
            {
                [BestAccuracyKey] = best.ToString("R", CultureInfo.InvariantCulture),
                [TrainDataKey] = train.Fingerprint,
                [TestDataKey] = test.Fingerprint,
            };
            Checkpoint.Save(lastCheckpoint, trainer, loader, card with { TestAccuracy = evaluation.Accuracy }, run);
            if (improved) AtomicFile.Write(bestCheckpoint, temp => File.Copy(lastCheckpoint, temp));
        }, progress => onProgress?.Invoke(trainer.EpochsCompleted + 1, progress));

        // From here on the model holds the weights the run evaluated, saves and draws: the average, where there is one.
        using var applied = average?.Applied();
        var final = last ?? trainer.Evaluate(testLoader);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Test accuracy {final.Accuracy * 100:F2}% ({final.Correct:N0}/{final.Samples:N0}) after {options.Epochs} epochs, {clock.Elapsed.TotalSeconds:F1}s in all"));

        card = card with { TestAccuracy = final.Accuracy };
        var weights = Path.Combine(folder, "model.safetensors");
        Weights.Save(model, weights, card);
        output.WriteLine($"Saved weights to {Path.GetFullPath(weights)}");
        if (options.SavePath is { } savePath)
        {
            if (IsOnnx(savePath))
            {
                OnnxExporter.Export(model, savePath, card);
                output.WriteLine($"Saved the ONNX model to {Path.GetFullPath(savePath)}");
            }
            else
            {
                Weights.Save(model, savePath, card);
                output.WriteLine($"Saved weights to {Path.GetFullPath(savePath)}");
            }
        }
        if (options.Plots)
            Figures(model, test, testLoader, history, folder, recipe, output);
        return new TrainingReport(history, final, device.ToString(), folder, clock.Elapsed);
    }

    /// <summary>Whether a path names an ONNX model (written by the exporter, run on ONNX Runtime) rather than weights.</summary>
    internal static bool IsOnnx(string path) => Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase);

    /// <summary>The files a run writes into its folder: what a new run there would replace (not its lock).</summary>
    static readonly string[] RunFiles =
        [MetricsFile, "last.ckpt", "best.ckpt", "model.safetensors", "loss.png", "accuracy.png", "confusion.png", "confusion.txt", "wrong.png"];

    const string MetricsFile = "metrics.jsonl";

    /// <summary>
    /// Every check that needs no data, before any is loaded and anything is written: the recipe, the epochs, the
    /// checkpoint to resume, the data folder, the run folder and where weights go.
    /// </summary>
    /// <returns>The checkpoint to resume (or null) and the run folder (null for a dry run, which writes none).</returns>
    static (CheckpointInfo? Resumed, string? Folder) Preflight(Recipe recipe, RunOptions options)
    {
        recipe.Check();
        if (options.Epochs is <= 0 or > RunOptions.MaxEpochs)
            throw new ArgumentException($"--epochs: expected 1 to {RunOptions.MaxEpochs:N0} epochs; found {options.Epochs:N0}.");
        var resumed = options.Resume is { } resume ? Checkpoint.Read(resume) : null;
        if (resumed is not null && options.Epochs <= resumed.Epochs)
            throw new CheckpointException(options.Resume!, $"the checkpoint has already trained {resumed.Epochs} epochs; pass --epochs greater than {resumed.Epochs} to continue " +
                "(its figures can be drawn again with the figures command)");
        if (options.DataRoot is { } data && File.Exists(data))
            throw new ArgumentException($"--data {data}: is a file; expected the folder of the dataset's IDX files.");

        if (options.DryRun) return (resumed, null);

        if (options.SavePath is { } save)
        {
            if (Directory.Exists(save)) throw new ArgumentException($"--save {save}: is a directory; expected a weights file to write.");
            var extension = Path.GetExtension(save).ToLowerInvariant();
            if (!Weights.Extensions.Contains(extension) && !IsOnnx(save))
                throw new ArgumentException($"--save {save}: expected a file ending in {string.Join(", ", Weights.Extensions)} or .onnx; found '{extension}'.");
            Writable("--save", Path.GetDirectoryName(Path.GetFullPath(save))!);
        }

        var resumeFolder = resumed is null ? null : Path.GetDirectoryName(Path.GetFullPath(options.Resume!))!;
        var folder = options.RunFolder ?? resumeFolder ?? DefaultRunFolder(recipe);
        if (File.Exists(folder)) throw new ArgumentException($"--out {folder}: is a file; expected a run folder.");
        Writable("--out", folder);
        return (resumed, folder);
    }

    /// <summary>
    /// Takes the run folder's lock, then checks that the folder holds no other run (unless resuming there, or
    /// <c>--force</c>): under the lock, so that two runs started at once cannot both find it empty.
    /// </summary>
    static RunLock TakeFolder(string folder, CheckpointInfo? resumed, RunOptions options)
    {
        var resumeFolder = resumed is null ? null : Path.GetDirectoryName(Path.GetFullPath(options.Resume!))!;
        var name = options.RunFolder is not null ? $"--out {folder}" : resumeFolder is not null ? $"the run folder of --resume, {folder}" : $"the run folder {folder}";
        var runLock = RunLock.Take(folder, name);
        var others = Directory.EnumerateFileSystemEntries(folder).Where(e => Path.GetFileName(e) != RunLock.FileName).ToList();
        var resumingHere = resumeFolder is not null && Path.GetFullPath(folder) == resumeFolder;
        if (!resumingHere && !options.Force && others.Count > 0)
        {
            runLock.Dispose();
            throw new ArgumentException(
                $"--out {folder}: expected an empty run folder, found {others.Count} entries " +
                "(an earlier run?); resume it with --resume, choose another folder, or pass --force to replace its run files.");
        }
        return runLock;
    }

    /// <summary>Refuses to resume on other data than the checkpoint's, unless <c>--allow-other-data</c> says to.</summary>
    static void SameData(CheckpointInfo resumed, MNIST train, MNIST test, RunOptions options)
    {
        foreach (var (key, split, data) in new[] { (TrainDataKey, "training", train), (TestDataKey, "test", test) })
        {
            // Checkpoints written before the fingerprints were recorded cannot be checked.
            if (!resumed.Run.TryGetValue(key, out var recorded) || recorded == data.Fingerprint || options.AllowOtherData) continue;
            throw new CheckpointException(options.Resume!,
                $"the checkpoint was trained on other data: its {split} set's SHA-256 is {recorded[..12]}…, the files in {Path.GetFullPath(data.root)} give {data.Fingerprint[..12]}…; " +
                "resume with the --data it was trained on, or pass --allow-other-data to continue on these files");
        }
    }

    /// <summary><see cref="AtomicFile.CheckWritable"/>, its message naming the flag.</summary>
    internal static void Writable(string flag, string folder)
    {
        try
        {
            AtomicFile.CheckWritable(folder);
        }
        catch (IOException e)
        {
            throw new IOException($"{flag} {e.Message}", e);
        }
    }

    static string Describe(Recipe recipe, nn.Module model, int epochs)
    {
        var nesterov = recipe.Nesterov ? " (Nesterov)" : "";
        var momentum = recipe.Optimizer == OptimizerKind.Adam
            ? recipe.CyclesMomentum ? " beta1 0.95 → 0.85 → 0.95" : ""
            : recipe.CyclesMomentum ? $" momentum 0.95 → 0.85 → 0.95{nesterov}"
            : recipe.Momentum > 0 ? FormattableString.Invariant($" momentum {recipe.Momentum}{nesterov}") : "";
        var average = recipe.AverageDecay > 0 ? FormattableString.Invariant($"; evaluating the weights' moving average (decay {recipe.AverageDecay})") : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"Model: {recipe.Model} ({model.CountParameters().Total:N0} parameters); {recipe.Optimizer} lr {recipe.LearningRate}{momentum}, " +
            $"{recipe.Schedule} schedule, batch {recipe.BatchSize}, {epochs} epochs, seed {recipe.Seed}{average}");
    }

    static string DefaultRunFolder(Recipe recipe) =>
        Path.Combine("runs", $"{recipe.Dataset.ToString().ToLowerInvariant()}-{recipe.Model.ToString().ToLowerInvariant()}-{DateTime.Now:yyyyMMdd-HHmmss}");

    /// <summary>
    /// Draws a finished (or interrupted) run's figures again, from its folder: the recipe and weights of its checkpoint
    /// (or its final weights, where written), its metrics, and the test set it was evaluated on.
    /// </summary>
    /// <param name="folder">The run folder.</param>
    /// <param name="dataRoot">The dataset's folder; null for the recipe's dataset's default.</param>
    /// <param name="download">Download missing dataset files.</param>
    /// <param name="output">Where the report lines go.</param>
    /// <exception cref="CheckpointException">The folder holds no readable last.ckpt.</exception>
    public static void DrawFigures(string folder, string? dataRoot, bool download, TextWriter output)
    {
        if (!Directory.Exists(folder)) throw new ArgumentException($"--run {folder}: no such folder; expected a run folder.");
        var checkpoint = Path.Combine(folder, "last.ckpt");
        var info = Checkpoint.Read(checkpoint);
        Recipe recipe;
        try
        {
            recipe = Recipe.FromRun(info.Run);
        }
        catch (FormatException e)
        {
            throw new CheckpointException(checkpoint, e.Message, e);
        }
        using var runLock = RunLock.Take(folder, $"--run {folder}");
        var root = dataRoot ?? recipe.Dataset.DefaultRoot();
        using var test = recipe.Dataset.Load(root, train: false, download, recipe.Normalization, recipe.Model.ImageSize(), CPU, output);
        using var model = recipe.Model.Create(test.classes.Count);
        var weights = Path.Combine(folder, "model.safetensors");
        if (File.Exists(weights)) Weights.Load(model, weights);
        else Checkpoint.LoadWeights(checkpoint, model);
        using var testLoader = new TensorDataLoader(test, EvaluationBatchSize);
        var history = new MetricsLog(Path.Combine(folder, MetricsFile)).Read();
        Figures(model, test, testLoader, history, folder, recipe, output);
    }

    /// <summary>Curves, the confusion matrix (text and figure), per-class accuracy and the confident mistakes.</summary>
    static void Figures(nn.Module<Tensor, Tensor> model, MNIST test, TensorDataLoader testLoader, IReadOnlyList<EpochMetrics> history,
        string folder, Recipe recipe, TextWriter output)
    {
        var classes = test.classes;
        using var probabilities = Probabilities(model, testLoader);
        using var predicted = probabilities.argmax(1);
        var matrix = new ConfusionMatrix(test.targets, predicted, classes);
        var text = matrix.ToString();
        AtomicFile.Write(Path.Combine(folder, "confusion.txt"), temp => File.WriteAllText(temp, text));
        output.WriteLine("Accuracy per class: " + string.Join(", ",
            Enumerable.Range(0, classes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"{classes[c]} {matrix.Accuracy(c) * 100:F1}%"))));
        ConfusionMatrixPlot.Save(matrix, Path.Combine(folder, "confusion.png"));
        if (history.Count > 0)
            TrainingCurves.Save([.. history.Select(m => new EpochScores(m.Epoch, m.TrainLoss, m.TestLoss, m.TestAccuracy))],
                folder, $"{recipe.Model} on {recipe.Dataset.DisplayName()}");
        using var images = test.data.cpu();
        WrongPredictionsGrid.Save(images, test.targets, probabilities, classes, Path.Combine(folder, "wrong.png"));
        output.WriteLine($"Figures: loss.png, accuracy.png, confusion.png, confusion.txt, wrong.png in {Path.GetFullPath(folder)}");
    }

    /// <summary>Class probabilities (softmax of the logits) for every test image, N x C on the CPU.</summary>
    static Tensor Probabilities(nn.Module<Tensor, Tensor> model, TensorDataLoader testLoader)
    {
        model.eval();
        using var noGrad = no_grad();
        var chunks = new List<Tensor>();
        foreach (var (images, _) in testLoader)
            using (NewDisposeScope())
                chunks.Add(nn.functional.softmax(model.call(images), 1).cpu().MoveToOuterDisposeScope());
        var all = cat(chunks, 0);
        foreach (var chunk in chunks) chunk.Dispose();
        return all;
    }

    static TrainingReport DryRun(Trainer trainer, TensorDataLoader loader, MNIST test, Device device, Stopwatch clock, TextWriter output)
    {
        Evaluation evaluation;
        foreach (var (images, labels) in loader)
        {
            using var loss = trainer.Step(images, labels);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dry run: one batch of {images.shape[0]}, loss {loss.item<float>():F4}"));
            break;
        }
        using var first = arange(Math.Min(1000, test.Count), device: test.Device);
        var (firstImages, firstLabels) = test.GetItems(first);
        using (firstImages)
        using (firstLabels)
        using (var firstBatches = new TensorDataLoader(firstImages, firstLabels, EvaluationBatchSize))
        // What a run would evaluate: the average, which the one step has made a copy of the weights.
        using (trainer.Average?.Applied())
            evaluation = trainer.Evaluate(firstBatches);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dry run: evaluated {evaluation.Samples} test images, accuracy {evaluation.Accuracy * 100:F2}%"));
        return new TrainingReport([], evaluation, device.ToString(), null, clock.Elapsed);
    }
}
