using System.Diagnostics;
using System.Globalization;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Training;

/// <summary>What a training run achieved.</summary>
/// <param name="Epochs">Each epoch's training result and test evaluation.</param>
/// <param name="Final">Test evaluation after the last epoch.</param>
/// <param name="Device">Where it ran.</param>
/// <param name="Elapsed">Wall-clock time from the start of <see cref="MnistTraining.Run"/>.</param>
public sealed record TrainingReport(IReadOnlyList<(EpochResult Train, Evaluation Test)> Epochs, Evaluation Final, string Device, TimeSpan Elapsed);

/// <summary>
/// The trainer program's job: load MNIST for the chosen model, train it, report each epoch, save it.
/// pytorch/examples' <c>mnist/main.py</c> as a library call.
/// </summary>
public static class MnistTraining
{
    /// <summary>Runs a training job, writing one line per epoch (and set-up lines) to <paramref name="output"/>.</summary>
    /// <exception cref="FileNotFoundException">MNIST is missing and could not be downloaded.</exception>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public static TrainingReport Run(MnistTrainingOptions options, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        var clock = Stopwatch.StartNew();

        var device = Devices.Select(options.Device);
        output.WriteLine($"Device: {DescribeDevice(device)} ({options.Device.ToString().ToLowerInvariant()})");
        manual_seed(options.Seed);

        var size = ImageSizeFor(options.Model);
        using var train = new MNIST(options.DataRoot, train: true, download: options.Download, transform: options.Normalization, imageSize: size, device: device, log: output);
        using var test = new MNIST(options.DataRoot, train: false, download: options.Download, transform: options.Normalization, imageSize: size, device: device, log: output);
        output.WriteLine($"Data: {train.Count:N0} training and {test.Count:N0} test images from {Path.GetFullPath(options.DataRoot)}, {size}x{size}, {options.Normalization}");

        using var model = Create(options.Model);
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

        var epochs = new List<(EpochResult, Evaluation)>();
        trainer.Fit(loader, options.Epochs, (epoch, result) =>
        {
            var evaluation = trainer.Evaluate(test);
            epochs.Add((result, evaluation));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch,2}/{options.Epochs}  train loss {result.Loss:F4}  test loss {evaluation.Loss:F4}  " +
                $"test acc {evaluation.Accuracy * 100:F2}%  {result.Elapsed.TotalSeconds:F1}s  {result.SamplesPerSecond:N0} samples/s  lr {result.LearningRate:G3}"));
        });

        var final = epochs[^1].Item2;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Test accuracy {final.Accuracy * 100:F2}% ({final.Correct:N0}/{final.Samples:N0}) after {options.Epochs} epochs, {clock.Elapsed.TotalSeconds:F1}s in all"));
        if (options.SavePath is { } path)
        {
            Save(model, path);
            output.WriteLine($"Saved weights to {Path.GetFullPath(path)}");
        }
        return new TrainingReport(epochs, final, device.ToString(), clock.Elapsed);
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
        return new TrainingReport([], evaluation, device.ToString(), clock.Elapsed);
    }

    /// <summary>The model's input size: LeNet takes 32x32, the MLP 28x28 (flattened by the model).</summary>
    public static int ImageSizeFor(ModelKind model) => model switch
    {
        ModelKind.LeNet => 32,
        ModelKind.Mlp => MNIST.FileImageSize,
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown model."),
    };

    /// <summary>A fresh model of the given kind, with default sizes.</summary>
    public static nn.Module<Tensor, Tensor> Create(ModelKind model) => model switch
    {
        ModelKind.LeNet => new LeNet(),
        ModelKind.Mlp => new Mlp(),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, "unknown model."),
    };

    /// <summary>Saves weights in TorchSharp's format, atomically: a temporary file renamed into place.</summary>
    public static void Save(nn.Module model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        AtomicFile.Write(path, temp => model.save(temp));
    }

    static string DescribeDevice(Device device) =>
        device.type == DeviceType.CUDA ? $"CUDA GPU {Math.Max(device.index, 0)}" : $"CPU, {get_num_threads()} threads";
}
