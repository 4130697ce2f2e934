using System.CommandLine;
using System.Globalization;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Native;
using LeNetTorchSharp.Plots;
using LeNetTorchSharp.Training;
using Spectre.Console;

namespace TrainMnist;

/// <summary>The trainer program: flags in, a library call, lines out. Errors end in one line and exit code 1 (2 for bad flags).</summary>
public static class Cli
{
    /// <summary>Runs the program with <paramref name="args"/>; returns the exit code.</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="stdout">Report lines.</param>
    /// <param name="stderr">Error lines.</param>
    /// <param name="interactive">Output is a terminal: draw a live progress bar (unless --quiet).</param>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool interactive)
    {
        var defaults = Recipe.Fast;
        var runDefaults = new RunOptions();
        var model = new Option<ModelKind>("--model") { Description = "lenet or mlp", DefaultValueFactory = _ => defaults.Model };
        var dataset = new Option<string>("--dataset") { Description = "mnist or fashion-mnist", DefaultValueFactory = _ => "mnist" };
        dataset.AcceptOnlyFromAmong("mnist", "fashion-mnist");
        var recipe = new Option<string>("--recipe") { Description = "fast: the default recipe (SGD + Nesterov, one-cycle lr peaking at 0.1, batch 128, MNIST statistics); tutorial: plain SGD lr 0.01, batch 64, normalization (0.5, 0.5)", DefaultValueFactory = _ => "fast" };
        recipe.AcceptOnlyFromAmong("fast", "tutorial");
        var epochs = new Option<int?>("--epochs") { Description = $"total epochs [default: {runDefaults.Epochs}]" };
        var batchSize = new Option<int?>("--batch-size") { Description = $"samples per step [default: {defaults.BatchSize}]" };
        var lr = new Option<double?>("--lr") { Description = $"(peak) learning rate [default: {defaults.LearningRate}]" };
        var optimizer = new Option<OptimizerKind?>("--optimizer") { Description = $"sgd, adam or rmsprop [default: {defaults.Optimizer.ToString().ToLowerInvariant()}]" };
        var momentum = new Option<double?>("--momentum") { Description = $"momentum for sgd and rmsprop [default: {defaults.Momentum}]" };
        var nesterov = new Option<bool?>("--nesterov") { Description = $"Nesterov momentum for sgd (true/false) [default: {defaults.Nesterov.ToString().ToLowerInvariant()}]" };
        var weightDecay = new Option<double?>("--weight-decay") { Description = $"L2 penalty [default: {defaults.WeightDecay}]" };
        var schedule = new Option<ScheduleKind?>("--schedule") { Description = $"constant, step or onecycle [default: {defaults.Schedule.ToString().ToLowerInvariant()}]" };
        var gamma = new Option<double?>("--gamma") { Description = "decay factor per --step-size epochs for --schedule step [default: 0.7]" };
        var stepSize = new Option<int?>("--step-size") { Description = "epochs between decays for --schedule step [default: 1]" };
        var normalize = new Option<string?>("--normalize") { Description = "mnist (mean 0.1307, std 0.3081) or tutorial (0.5, 0.5)" };
        normalize.AcceptOnlyFromAmong("mnist", "tutorial");
        var seed = new Option<long?>("--seed") { Description = $"seeds weights and batch order; a CPU run with a seed repeats exactly [default: {defaults.Seed}]" };
        var device = new Option<DeviceChoice>("--device") { Description = "auto, cpu or cuda (cuda needs the CUDA build: dotnet build -p:TorchBackend=cuda)", DefaultValueFactory = _ => runDefaults.Device };
        var data = new Option<string?>("--data") { Description = "folder with the IDX files [default: data/mnist or data/fashion-mnist]" };
        var noDownload = new Option<bool>("--no-download") { Description = "fail instead of downloading missing files" };
        var output = new Option<string?>("--out") { Description = "run folder for metrics, checkpoints, weights and figures [default: runs/<dataset>-<model>-<time>]" };
        var resume = new Option<string?>("--resume") { Description = "continue from a checkpoint (last.ckpt or best.ckpt) with its recipe; --epochs is the new total" };
        var save = new Option<string?>("--save") { Description = "also save the final weights to this path: .safetensors (with the model card) or PyTorch's .pt / .pth" };
        var noPlots = new Option<bool>("--no-plots") { Description = "skip the figures and the confusion matrix" };
        var quiet = new Option<bool>("--quiet", "--no-progress") { Description = "no live progress bar (it is off anyway when output is not a terminal)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "train one batch and evaluate briefly, to check the set-up" };

        var root = new RootCommand("Train LeNet or an MLP on MNIST or Fashion-MNIST with TorchSharp.")
        {
            model, dataset, recipe, epochs, batchSize, lr, optimizer, momentum, nesterov, weightDecay, schedule, gamma, stepSize, normalize,
            seed, device, data, noDownload, output, resume, save, noPlots, quiet, dryRun,
        };

        var predictModel = new Option<string>("--model") { Description = "the weights: a run's model.safetensors or checkpoint (.ckpt), any safetensors, or a PyTorch state_dict (.pt, .pth)", Required = true };
        var arch = new Option<ModelKind?>("--arch") { Description = "lenet or mlp, for weights without a model card [default: told from the weights' keys and shapes]" };
        var predictNormalize = new Option<string?>("--normalize") { Description = "mnist (mean 0.1307, std 0.3081) or tutorial (0.5, 0.5), for weights without a model card [default: mnist]" };
        predictNormalize.AcceptOnlyFromAmong("mnist", "tutorial");
        var image = new Option<string>("--image") { Description = "the picture to classify (PNG or JPEG, any size and colour)", Required = true };
        var figure = new Option<string?>("--figure") { Description = "also draw the view_classify figure to this PNG" };
        var top = new Option<int>("--top") { Description = "how many classes to list", DefaultValueFactory = _ => 3 };
        var predict = new Command("predict", "Classify an image with a trained model.") { predictModel, image, arch, predictNormalize, figure, top };
        root.Subcommands.Add(predict);

        root.SetAction(parsed =>
        {
            var chosen = parsed.GetValue(recipe) == "tutorial" ? Recipe.Tutorial : defaults;
            var normalization = parsed.GetValue(normalize) switch
            {
                "mnist" => Normalize.MnistStatistics,
                "tutorial" => Normalize.Tutorial,
                _ => chosen.Normalization,
            };
            chosen = chosen with
            {
                Model = parsed.GetValue(model),
                Dataset = parsed.GetValue(dataset) == "fashion-mnist" ? DatasetKind.FashionMnist : DatasetKind.Mnist,
                BatchSize = parsed.GetValue(batchSize) ?? chosen.BatchSize,
                LearningRate = parsed.GetValue(lr) ?? chosen.LearningRate,
                Optimizer = parsed.GetValue(optimizer) ?? chosen.Optimizer,
                Momentum = parsed.GetValue(momentum) ?? chosen.Momentum,
                Nesterov = parsed.GetValue(nesterov) ?? chosen.Nesterov,
                WeightDecay = parsed.GetValue(weightDecay) ?? chosen.WeightDecay,
                Schedule = parsed.GetValue(schedule) ?? chosen.Schedule,
                StepSize = parsed.GetValue(stepSize) ?? chosen.StepSize,
                Gamma = parsed.GetValue(gamma) ?? chosen.Gamma,
                NormalizeMean = normalization.Mean,
                NormalizeStd = normalization.Std,
                Seed = parsed.GetValue(seed) ?? chosen.Seed,
            };
            // Adam and RMSprop have no Nesterov option; the default recipe's Nesterov applies to SGD only.
            if (chosen.Optimizer != OptimizerKind.Sgd && parsed.GetValue(nesterov) is null) chosen = chosen with { Nesterov = false };
            var options = new RunOptions
            {
                Epochs = parsed.GetValue(epochs) ?? runDefaults.Epochs,
                Device = parsed.GetValue(device),
                DataRoot = parsed.GetValue(data),
                Download = !parsed.GetValue(noDownload),
                RunFolder = parsed.GetValue(output),
                Resume = parsed.GetValue(resume),
                SavePath = parsed.GetValue(save),
                Plots = !parsed.GetValue(noPlots),
                DryRun = parsed.GetValue(dryRun),
            };
            return Guarded(stderr, () =>
            {
                // A resumed run continues with its checkpoint's recipe.
                if (options.Resume is { } checkpoint) chosen = ResumedRecipe(checkpoint);
                Train(chosen, options, stdout, interactive && !parsed.GetValue(quiet));
            });
        });

        predict.SetAction(parsed => Guarded(stderr, () =>
        {
            (double, double)? normalization = parsed.GetValue(predictNormalize) switch
            {
                "mnist" => Predictor.MnistNormalization,
                "tutorial" => (Normalize.Tutorial.Mean, Normalize.Tutorial.Std),
                _ => null,
            };
            Predict(parsed.GetValue(predictModel)!, parsed.GetValue(image)!, parsed.GetValue(arch), normalization, parsed.GetValue(figure), parsed.GetValue(top), stdout);
        }));

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // One line per problem, not the whole help text: the help is one --help away.
            foreach (var error in result.Errors) stderr.WriteLine($"error: {error.Message.Split('\n')[0].Trim()}");
            return 2;
        }
        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    static int Guarded(TextWriter stderr, Action run)
    {
        try
        {
            TorchNative.EnsureLoaded();
            run();
            return 0;
        }
        catch (Exception e) when (e is IOException or TrainingDivergedException or InvalidOperationException or ArgumentException or TorchNativeLoadException)
        {
            // IOException covers the library's file errors: dataset, download, checkpoint, safetensors, image.
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    static Recipe ResumedRecipe(string checkpoint)
    {
        try
        {
            return Recipe.FromRun(Checkpoint.Read(checkpoint).Run);
        }
        catch (FormatException e)
        {
            throw new CheckpointException(checkpoint, e.Message, e);
        }
    }

    static void Train(Recipe recipe, RunOptions options, TextWriter stdout, bool progressBar)
    {
        if (!progressBar)
        {
            TrainingJob.Run(recipe, options, stdout);
            return;
        }
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                ProgressTask? task = null;
                var lines = new LineWriter(line => AnsiConsole.WriteLine(line));
                TrainingJob.Run(recipe, options with { LogEvery = 20 }, lines, (epoch, p) =>
                {
                    if (task is null || task.IsFinished) task = context.AddTask($"epoch {epoch}", maxValue: p.Batches ?? 0);
                    task.Value = p.Batch;
                    task.Description = string.Create(CultureInfo.InvariantCulture,
                        $"epoch {epoch}  batch {p.Batch}/{p.Batches}  loss {p.Loss:F4}  {p.Samples / Math.Max(p.Elapsed.TotalSeconds, 1e-9):N0} samples/s");
                    if (p.Batch == p.Batches) task.StopTask();
                });
            });
    }

    static void Predict(string modelPath, string imagePath, ModelKind? arch, (double, double)? normalization, string? figurePath, int top, TextWriter stdout)
    {
        if (top < 1) throw new ArgumentException($"--top must be at least 1; found {top}.", nameof(top));
        Predictor predictor;
        try
        {
            predictor = Predictor.Load(modelPath, arch, normalization);
        }
        catch (UnknownArchitectureException e)
        {
            throw new ArgumentException($"{e.Message}: pass --arch lenet or --arch mlp.", e);
        }
        catch (ArgumentException e) when (e.ParamName is "model" or "normalization")
        {
            throw new ArgumentException($"{e.Message.Split(" (Parameter")[0]} Leave out --{(e.ParamName == "model" ? "arch" : "normalize")} for this file.", e);
        }
        using var _ = predictor;
        var prediction = predictor.Predict(imagePath);
        var card = predictor.Card;
        stdout.WriteLine(predictor.CardFromFile
            ? $"{Path.GetFileName(imagePath)}: {card.Model} trained on {card.Dataset}"
            : string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(imagePath)}: {card.Model} (no model card in {Path.GetFileName(modelPath)}: {card.Classes.Count} classes, normalization mean {card.Mean}, std {card.Std})"));
        foreach (var (name, label, probability) in prediction.Ranked.Take(top))
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-12} {probability * 100,6:F2}%"));
        if (figurePath is not null)
        {
            ViewClassify.Save(prediction.Input, TorchSharp.torch.tensor(prediction.Probabilities), figurePath, prediction.Classes);
            stdout.WriteLine($"Figure: {Path.GetFullPath(figurePath)}");
        }
    }

    /// <summary>A TextWriter that hands whole lines to a callback (Spectre prints them above the live progress bar).</summary>
    sealed class LineWriter(Action<string> writeLine) : TextWriter
    {
        readonly System.Text.StringBuilder pending = new();
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value)
        {
            if (value == '\n')
            {
                writeLine(pending.ToString().TrimEnd('\r'));
                pending.Clear();
            }
            else pending.Append(value);
        }
    }
}
