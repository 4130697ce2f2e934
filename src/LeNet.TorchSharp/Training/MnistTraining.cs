using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Visualization;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Training;

/// <summary>What a training run achieved.</summary>
/// <param name="Epochs">Every epoch of the run (including those before a resume).</param>
/// <param name="Final">Test evaluation after the last epoch.</param>
/// <param name="Device">Where it ran.</param>
/// <param name="RunFolder">Where its files are (null for a dry run).</param>
/// <param name="Elapsed">Wall-clock time of this invocation.</param>
public sealed record TrainingReport(IReadOnlyList<EpochMetrics> Epochs, Evaluation Final, string Device, string? RunFolder, TimeSpan Elapsed);

/// <summary>
/// The trainer program's job: load the dataset for the chosen model, train it, report and log each epoch,
/// checkpoint, save the weights, and draw the evaluation figures. pytorch/examples' <c>mnist/main.py</c>
/// as a library call.
/// </summary>
/// <remarks>
/// The run folder receives <c>metrics.jsonl</c> (one line per epoch), <c>last.ckpt</c> (every epoch) and
/// <c>best.ckpt</c> (best test accuracy), <c>model.safetensors</c> (final weights with a <see cref="ModelCard"/>),
/// and, with <see cref="MnistTrainingOptions.Plots"/>, <c>loss.png</c>, <c>accuracy.png</c>, <c>confusion.png</c>,
/// <c>confusion.txt</c> and <c>wrong.png</c>. Every file is written atomically.
/// </remarks>
public static class MnistTraining
{
    /// <summary>Runs a training job, writing set-up lines and one line per epoch to <paramref name="output"/>.</summary>
    /// <param name="options">The run's settings.</param>
    /// <param name="output">Where the report lines go.</param>
    /// <param name="onProgress">Called every <see cref="MnistTrainingOptions.LogEvery"/> batches with the epoch number and progress.</param>
    /// <exception cref="FileNotFoundException">The dataset is missing and could not be downloaded.</exception>
    /// <exception cref="CheckpointException">The checkpoint to resume from is unreadable or does not fit.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static TrainingReport Run(MnistTrainingOptions options, TextWriter output, Action<int, StepProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        var clock = Stopwatch.StartNew();

        CheckpointState? resumed = null;
        if (options.Resume is { } resume)
        {
            resumed = Checkpoint.ReadState(resume);
            options = Resumed(options, resumed, resume);
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);

        var device = Devices.Select(options.Device);
        output.WriteLine($"Device: {DescribeDevice(device)} ({options.Device.ToString().ToLowerInvariant()})");
        manual_seed(options.Seed);

        var resources = options.Resources;
        var root = options.DataRoot ?? resources.DefaultRoot;
        var size = ImageSizeFor(options.Model);
        using var train = new MNIST(root, train: true, download: options.Download, transform: options.Normalization, imageSize: size, device: device, resources: resources, log: output);
        using var test = new MNIST(root, train: false, download: options.Download, transform: options.Normalization, imageSize: size, device: device, resources: resources, log: output);
        output.WriteLine($"Data: {resources.Name}, {train.Count:N0} training and {test.Count:N0} test images from {Path.GetFullPath(root)}, {size}x{size}, {options.Normalization}");

        using var model = Create(options.Model, resources.Classes.Count);
        var optimizer = new OptimizerSettings(options.Optimizer, options.LearningRate, options.Momentum, options.Nesterov, options.WeightDecay);
        using var trainer = new Trainer(model, optimizer, device, schedule: options.Schedule) { LogEvery = options.LogEvery };
        using var loader = new TensorDataLoader(train, options.BatchSize, shuffle: true, seed: options.Seed);
        var momentum = options.Optimizer != OptimizerKind.Adam && options.Momentum > 0
            ? FormattableString.Invariant($" momentum {options.Momentum}{(options.Nesterov ? " (Nesterov)" : "")}")
            : "";
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Model: {options.Model} ({model.CountParameters().Total:N0} parameters); {options.Optimizer} lr {options.LearningRate}{momentum}, {options.Schedule.Kind} schedule, batch {options.BatchSize}, {options.Epochs} epochs, seed {options.Seed}"));

        if (options.DryRun)
            return DryRun(trainer, loader, test, device, clock, output);

        var folder = options.RunFolder
            ?? (options.Resume is { } from ? Path.GetDirectoryName(Path.GetFullPath(from))! : DefaultRunFolder(options));
        Directory.CreateDirectory(folder);
        AtomicFile.RemoveAbandoned(folder);
        var metrics = new MetricsLog(Path.Combine(folder, "metrics.jsonl"));
        var lastCheckpoint = Path.Combine(folder, "last.ckpt");
        var bestCheckpoint = Path.Combine(folder, "best.ckpt");
        output.WriteLine($"Run folder: {Path.GetFullPath(folder)}");

        var firstEpoch = 1;
        var best = 0.0;
        if (resumed is not null)
        {
            Checkpoint.Load(options.Resume!, trainer, loader);
            firstEpoch = resumed.Epoch + 1;
            best = resumed.BestAccuracy;
            output.WriteLine($"Resumed from {Path.GetFullPath(options.Resume!)} after epoch {resumed.Epoch} (step {resumed.Steps}); training to epoch {options.Epochs}");
        }

        var history = metrics.Read().Where(m => m.Epoch < firstEpoch).ToList();
        Evaluation? last = null;
        var optionsJson = JsonSerializer.Serialize(options with { Resume = null });
        trainer.Fit(loader, options.Epochs, (epoch, result) =>
        {
            var evaluation = trainer.Evaluate(test);
            last = evaluation;
            var record = new EpochMetrics(epoch, result.Loss, evaluation.Loss, evaluation.Accuracy, result.Elapsed.TotalSeconds, result.SamplesPerSecond, result.LearningRate);
            history.Add(record);
            metrics.Append(record);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch,2}/{options.Epochs}  train loss {result.Loss:F4}  test loss {evaluation.Loss:F4}  " +
                $"test acc {evaluation.Accuracy * 100:F2}%  {result.Elapsed.TotalSeconds:F1}s  {result.SamplesPerSecond:N0} samples/s  lr {result.LearningRate:G3}"));

            var improved = evaluation.Accuracy > best;
            best = Math.Max(best, evaluation.Accuracy);
            var state = new CheckpointState(epoch, trainer.StepsTaken, best, options.Model.ToString(), resources.Name, optionsJson);
            Checkpoint.Save(lastCheckpoint, trainer, loader, state);
            if (improved) AtomicFile.Write(bestCheckpoint, temp => File.Copy(lastCheckpoint, temp));
        }, progress => onProgress?.Invoke(history.Count + 1, progress), firstEpoch);

        var final = last ?? trainer.Evaluate(test);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Test accuracy {final.Accuracy * 100:F2}% ({final.Correct:N0}/{final.Samples:N0}) after {options.Epochs} epochs, {clock.Elapsed.TotalSeconds:F1}s in all"));

        var card = new ModelCard(options.Model, options.Dataset, options.NormalizeMean, options.NormalizeStd);
        var weights = Path.Combine(folder, "model.safetensors");
        Safetensors.SaveModel(model, weights, card.ToMetadata());
        output.WriteLine($"Saved weights to {Path.GetFullPath(weights)}");
        if (options.SavePath is { } savePath)
        {
            Safetensors.SaveModel(model, savePath, card.ToMetadata());
            output.WriteLine($"Saved weights to {Path.GetFullPath(savePath)}");
        }
        if (options.Plots)
            Report(trainer, test, history, folder, options, output);
        return new TrainingReport(history, final, device.ToString(), folder, clock.Elapsed);
    }

    /// <summary>The checkpoint's run settings, with this invocation's choices of where and how long.</summary>
    static MnistTrainingOptions Resumed(MnistTrainingOptions requested, CheckpointState state, string path)
    {
        MnistTrainingOptions saved;
        try
        {
            saved = JsonSerializer.Deserialize<MnistTrainingOptions>(state.Options) ?? throw new JsonException("empty options");
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, $"the checkpoint's options cannot be read ({e.Message})", e);
        }
        if (requested.Epochs <= state.Epoch)
            throw new CheckpointException(path, $"the checkpoint has already trained {state.Epoch} epochs; pass --epochs greater than {state.Epoch} to continue");
        return saved with
        {
            Epochs = requested.Epochs,
            Device = requested.Device,
            DataRoot = requested.DataRoot,
            Download = requested.Download,
            RunFolder = requested.RunFolder,
            Resume = requested.Resume,
            SavePath = requested.SavePath,
            Plots = requested.Plots,
            DryRun = requested.DryRun,
            LogEvery = requested.LogEvery,
        };
    }

    static string DefaultRunFolder(MnistTrainingOptions options) =>
        Path.Combine("runs", $"{options.Dataset.ToString().ToLowerInvariant()}-{options.Model.ToString().ToLowerInvariant()}-{DateTime.Now:yyyyMMdd-HHmmss}");

    /// <summary>Curves, the confusion matrix (text and figure), per-class accuracy and the confident mistakes.</summary>
    static void Report(Trainer trainer, MNIST test, IReadOnlyList<EpochMetrics> history, string folder, MnistTrainingOptions options, TextWriter output)
    {
        var classes = test.Resources.Classes;
        using var probabilities = trainer.Predict(test);
        using var predicted = probabilities.argmax(1);
        var matrix = new ConfusionMatrix(test.Labels, predicted, classes);
        var text = matrix.ToString();
        AtomicFile.Write(Path.Combine(folder, "confusion.txt"), temp => File.WriteAllText(temp, text));
        output.WriteLine("Accuracy per class: " + string.Join(", ",
            Enumerable.Range(0, classes.Count).Select(c => string.Create(CultureInfo.InvariantCulture, $"{classes[c]} {matrix.Accuracy(c) * 100:F1}%"))));
        ConfusionMatrixPlot.Save(matrix, Path.Combine(folder, "confusion.png"));
        if (history.Count > 0)
            TrainingCurves.Save(history, folder, $"{options.Model} on {test.Resources.Name}");
        using var images = test.Data.cpu();
        WrongPredictionsGrid.Save(images, test.Labels, probabilities, classes, Path.Combine(folder, "wrong.png"));
        output.WriteLine($"Figures: loss.png, accuracy.png, confusion.png, confusion.txt, wrong.png in {Path.GetFullPath(folder)}");
    }

    static TrainingReport DryRun(Trainer trainer, TensorDataLoader loader, MNIST test, Device device, Stopwatch clock, TextWriter output)
    {
        var first = loader.Epoch().First();
        using (first)
        using (var loss = trainer.Step(first.Images, first.Labels))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dry run: one batch of {first.Size}, loss {loss.item<float>():F4}"));
        var n = Math.Min(1000, test.Count);
        var evaluation = trainer.Evaluate(test.Images(0, n), test.Labels.narrow(0, 0, n));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dry run: evaluated {evaluation.Samples} test images, accuracy {evaluation.Accuracy * 100:F2}%"));
        return new TrainingReport([], evaluation, device.ToString(), null, clock.Elapsed);
    }

    /// <summary>The model's input size: LeNet takes 32x32, the MLP 28x28 (flattened by the model).</summary>
    public static int ImageSizeFor(ModelKind model) => model switch
    {
        ModelKind.LeNet => 32,
        ModelKind.Mlp => MNIST.FileImageSize,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown model."),
    };

    /// <summary>A fresh model of the given kind, with default sizes and <paramref name="classes"/> outputs.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelKind model, int classes = 10) => model switch
    {
        ModelKind.LeNet => new LeNet(new LeNetOptions { Classes = classes }),
        ModelKind.Mlp => new Mlp(outputSize: classes),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown model."),
    };

    static string DescribeDevice(Device device) =>
        device.type == DeviceType.CUDA ? $"CUDA GPU {Math.Max(device.index, 0)}" : $"CPU, {get_num_threads()} threads";
}
