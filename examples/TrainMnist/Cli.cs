using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.RegularExpressions;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Native;
using LeNetTorchSharp.Onnx;
using LeNetTorchSharp.OnnxRuntime;
using LeNetTorchSharp.Plots;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using Spectre.Console;

namespace TrainMnist;

/// <summary>The trainer program: flags in, a library call, lines out. Every error ends in one line that names the flag or
/// file, what was expected and what was found: exit code 2 for flags the parser refuses, 1 for everything else.</summary>
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
        var model = Choice<ModelKind>("--model", "the network", defaults.Model);
        var dataset = Choice("--dataset", "the dataset", ["mnist", "fashion-mnist"], "mnist");
        var recipe = Choice("--recipe", "fast: the default recipe (SGD + Nesterov, one-cycle lr peaking at 0.1, batch 128, MNIST statistics, weights' moving average); " +
            "tutorial: plain SGD lr 0.01, batch 64, normalization (0.5, 0.5), no average", ["fast", "tutorial"], "fast");
        var epochs = new Option<int?>("--epochs") { Description = $"total epochs [default: {runDefaults.Epochs}]" };
        var batchSize = new Option<int?>("--batch-size") { Description = $"samples per step [default: {defaults.BatchSize}]" };
        var lr = new Option<double?>("--lr") { Description = $"(peak) learning rate [default: {defaults.LearningRate}]" };
        var optimizer = Choice<OptimizerKind>("--optimizer", "the update rule", defaults.Optimizer);
        var momentum = new Option<double?>("--momentum") { Description = $"momentum for sgd and rmsprop with --schedule constant or step (onecycle moves it from 0.95 to 0.85 and back) [default: {defaults.Momentum}]" };
        var nesterov = new Option<bool?>("--nesterov") { Description = $"Nesterov momentum for sgd (true/false) [default: {defaults.Nesterov.ToString().ToLowerInvariant()}]" };
        var weightDecay = new Option<double?>("--weight-decay") { Description = $"L2 penalty [default: {defaults.WeightDecay}]" };
        var schedule = Choice<ScheduleKind>("--schedule", "how the learning rate changes", defaults.Schedule);
        var gamma = new Option<double?>("--gamma") { Description = $"decay factor per --step-size epochs for --schedule step [default: {defaults.Gamma}]" };
        var stepSize = new Option<int?>("--step-size") { Description = $"epochs between decays for --schedule step [default: {defaults.StepSize}]" };
        var ema = new Option<double?>("--ema") { Description = $"decay of the weights' moving average that is evaluated and saved (PyTorch's AveragedModel with get_ema_multi_avg_fn); 0 for the trained weights [default: {defaults.AverageDecay}]" };
        var normalize = Choice("--normalize", "mnist (mean 0.1307, std 0.3081) or tutorial (0.5, 0.5) [default: the recipe's]", ["mnist", "tutorial"], null);
        var seed = new Option<long?>("--seed") { Description = $"seeds weights and batch order; a CPU run with a seed repeats exactly [default: {defaults.Seed}]" };
        var device = Choice<DeviceChoice>("--device", "where to train (cuda needs the CUDA build: dotnet build -p:TorchBackend=cuda)", runDefaults.Device);
        var data = PathOption("--data", "folder with the IDX files [default: data/mnist or data/fashion-mnist]");
        var noDownload = new Option<bool>("--no-download") { Description = "fail instead of downloading missing files" };
        var output = PathOption("--out", "run folder for metrics, checkpoints, weights and figures; must be empty unless resuming there [default: runs/<dataset>-<model>-<time>]");
        var force = new Option<bool>("--force") { Description = "start a new run in a run folder that holds an earlier run's files (they are replaced)" };
        var resume = PathOption("--resume", "continue from a checkpoint (last.ckpt or best.ckpt) with its recipe; --epochs is the new total");
        var allowOtherData = new Option<bool>("--allow-other-data") { Description = "resume on data files other than those the checkpoint was trained on" };
        var save = PathOption("--save", "also save the final model to this path: .safetensors (with the model card), PyTorch's .pt / .pth, or .onnx (ONNX, with the model card)");
        var noPlots = new Option<bool>("--no-plots") { Description = "skip the figures and the confusion matrix" };
        var quiet = new Option<bool>("--quiet", "--no-progress") { Description = "no live progress bar (it is off anyway when output is not a terminal)" };
        var dryRun = new Option<bool>("--dry-run") { Description = "train one batch and evaluate briefly, to check the set-up; writes nothing" };

        var root = new RootCommand("Train LeNet or an MLP on MNIST or Fashion-MNIST with TorchSharp.")
        {
            model, dataset, recipe, epochs, batchSize, lr, optimizer, momentum, nesterov, weightDecay, schedule, gamma, stepSize, ema, normalize,
            seed, device, data, noDownload, output, force, resume, allowOtherData, save, noPlots, quiet, dryRun,
        };

        var predictModel = PathOption("--model", "the model: a run's model.safetensors or checkpoint (.ckpt), any safetensors, a PyTorch state_dict (.pt, .pth), or an exported .onnx (run on ONNX Runtime)", required: true);
        var arch = Choice<ModelKind>("--arch", "the network, for weights without a model card [default: told from the weights' keys and shapes]", null);
        var predictNormalize = Choice("--normalize", "mnist (mean 0.1307, std 0.3081) or tutorial (0.5, 0.5), for weights without a model card [default: mnist]", ["mnist", "tutorial"], null);
        var image = PathOption("--image", "the picture to classify (PNG or JPEG, any size and colour)", required: true);
        var figure = PathOption("--figure", "also draw the view_classify figure to this PNG");
        var top = new Option<int>("--top") { Description = "how many classes to list", DefaultValueFactory = _ => 3 };
        var predict = new Command("predict", "Classify an image with a trained model.") { predictModel, image, arch, predictNormalize, figure, top };
        root.Subcommands.Add(predict);

        var exportModel = PathOption("--model", "the weights: a run's model.safetensors or checkpoint (.ckpt), any safetensors, or a PyTorch state_dict (.pt, .pth)", required: true);
        var exportOutput = PathOption("--output", "the ONNX file to write (.onnx)", required: true);
        var export = new Command("export", "Export trained weights to ONNX (opset 17, with the model card), for ONNX Runtime without libtorch.")
            { exportModel, exportOutput, arch, predictNormalize };
        root.Subcommands.Add(export);

        var figuresRun = PathOption("--run", "the run folder (it holds last.ckpt, metrics.jsonl and model.safetensors)", required: true);
        var figuresData = PathOption("--data", "folder with the IDX files [default: the dataset's folder]");
        var figures = new Command("figures", "Draw a finished run's figures again (curves, confusion matrix, confident mistakes).") { figuresRun, figuresData, noDownload };
        root.Subcommands.Add(figures);

        root.SetAction(parsed =>
        {
            bool Given(Option option) => parsed.GetResult(option) is { Implicit: false };
            var preset = parsed.GetValue(recipe) == "tutorial" ? Recipe.Tutorial : defaults;
            var normalization = parsed.GetValue(normalize) switch
            {
                "mnist" => Normalize.MnistStatistics,
                "tutorial" => Normalize.Tutorial,
                _ => preset.Normalization,
            };
            var requested = preset with
            {
                // A choice's default stands in for a flag not given: the preset's value wins then (--recipe tutorial
                // has a constant rate, not the fast recipe's one-cycle schedule).
                Model = Given(model) ? Parse<ModelKind>(parsed.GetValue(model)!) : preset.Model,
                Dataset = parsed.GetValue(dataset) == "fashion-mnist" ? DatasetKind.FashionMnist : DatasetKind.Mnist,
                BatchSize = parsed.GetValue(batchSize) ?? preset.BatchSize,
                LearningRate = parsed.GetValue(lr) ?? preset.LearningRate,
                Optimizer = Given(optimizer) ? Parse<OptimizerKind>(parsed.GetValue(optimizer)!) : preset.Optimizer,
                Momentum = parsed.GetValue(momentum) ?? preset.Momentum,
                Nesterov = parsed.GetValue(nesterov) ?? preset.Nesterov,
                WeightDecay = parsed.GetValue(weightDecay) ?? preset.WeightDecay,
                Schedule = Given(schedule) ? Parse<ScheduleKind>(parsed.GetValue(schedule)!) : preset.Schedule,
                StepSize = parsed.GetValue(stepSize) ?? preset.StepSize,
                Gamma = parsed.GetValue(gamma) ?? preset.Gamma,
                AverageDecay = parsed.GetValue(ema) ?? preset.AverageDecay,
                NormalizeMean = normalization.Mean,
                NormalizeStd = normalization.Std,
                Seed = parsed.GetValue(seed) ?? preset.Seed,
            };
            // Adam and RMSprop have no Nesterov option; the default recipe's Nesterov applies to SGD only.
            if (requested.Optimizer != OptimizerKind.Sgd && !Given(nesterov)) requested = requested with { Nesterov = false };

            // The recipe settings each given flag decides, by their names in a checkpoint's run description.
            var given = new List<(string Flag, string Key)>();
            foreach (var (option, keys) in new (Option Option, string[] Keys)[]
            {
                (model, ["model"]), (dataset, ["dataset"]), (batchSize, ["batch-size"]), (lr, ["lr"]), (optimizer, ["optimizer"]),
                (momentum, ["momentum"]), (nesterov, ["nesterov"]), (weightDecay, ["weight-decay"]), (schedule, ["schedule"]),
                (stepSize, ["step-size"]), (gamma, ["gamma"]), (ema, ["ema"]), (normalize, ["normalize-mean", "normalize-std"]), (seed, ["seed"]),
                (recipe, ["batch-size", "lr", "momentum", "nesterov", "schedule", "normalize-mean", "normalize-std", "ema"]),
            })
                if (Given(option)) given.AddRange(keys.Select(k => (option.Name, k)));

            var options = new RunOptions
            {
                Epochs = parsed.GetValue(epochs) ?? runDefaults.Epochs,
                Device = Parse<DeviceChoice>(parsed.GetValue(device)!),
                DataRoot = parsed.GetValue(data),
                Download = !parsed.GetValue(noDownload),
                RunFolder = parsed.GetValue(output),
                Force = parsed.GetValue(force),
                Resume = parsed.GetValue(resume),
                AllowOtherData = parsed.GetValue(allowOtherData),
                SavePath = parsed.GetValue(save),
                Plots = !parsed.GetValue(noPlots),
                DryRun = parsed.GetValue(dryRun),
            };
            return Guarded(stderr, () =>
            {
                var chosen = options.Resume is { } checkpoint ? Resumed(checkpoint, requested, given, parsed) : requested;
                chosen.Check();
                chosen.CheckGivenFlagsTakeEffect([.. given.Select(g => g.Flag).Where(flag => flag != "--recipe")]);
                Train(chosen, options, stdout, interactive && !parsed.GetValue(quiet));
            });
        });

        // What predict and export are told about weights without a model card.
        (ModelKind? Kind, Normalize? Normalization) CardFlags(ParseResult parsed) => (
            parsed.GetValue(arch) is { } name ? Parse<ModelKind>(name) : null,
            parsed.GetValue(predictNormalize) switch
            {
                "mnist" => Normalize.MnistStatistics,
                "tutorial" => Normalize.Tutorial,
                _ => null,
            });

        predict.SetAction(parsed => Guarded(stderr, () =>
        {
            var (kind, normalization) = CardFlags(parsed);
            Predict(parsed.GetValue(predictModel)!, parsed.GetValue(image)!, kind, normalization, parsed.GetValue(figure), parsed.GetValue(top), stdout);
        }));

        export.SetAction(parsed => Guarded(stderr, () =>
        {
            var (kind, normalization) = CardFlags(parsed);
            Export(parsed.GetValue(exportModel)!, parsed.GetValue(exportOutput)!, kind, normalization, stdout);
        }));

        figures.SetAction(parsed => Guarded(stderr, () =>
            TrainingJob.DrawFigures(parsed.GetValue(figuresRun)!, parsed.GetValue(figuresData), !parsed.GetValue(noDownload), stdout)));

        var result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // One line per problem, not the whole help text: the help is one --help away.
            foreach (var error in result.Errors) stderr.WriteLine($"error: {OneLine(error.Message)}");
            return 2;
        }
        return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    /// <summary>A flag taking one of <paramref name="values"/> (any case), refusing others in one line that lists them.</summary>
    static Option<string> Choice(string name, string description, string[] values, string? defaultValue)
    {
        var option = new Option<string>(name) { Description = $"{string.Join(", ", values)}: {description}" };
        // System.CommandLine prints "[default: …]" itself for an option with a default value factory.
        if (defaultValue is not null) option.DefaultValueFactory = _ => defaultValue;
        option.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (value is not null && !values.Contains(value, StringComparer.OrdinalIgnoreCase))
                result.AddError($"{name}: expected one of {string.Join(", ", values)}; found '{value}'.");
        });
        return option;
    }

    /// <summary>A flag taking a path, refusing an empty one in one line that names the flag (the parser's own words name none).</summary>
    static Option<string?> PathOption(string name, string description, bool required = false)
    {
        var option = new Option<string?>(name) { Description = description, Required = required };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } value && string.IsNullOrWhiteSpace(value))
                result.AddError($"{name}: expected a path; found an empty string.");
        });
        return option;
    }

    /// <summary><see cref="Choice(string, string, string[], string)"/> over an enum's names, written in lower case.</summary>
    static Option<string> Choice<T>(string name, string description, T? defaultValue) where T : struct, Enum =>
        Choice(name, description, [.. Enum.GetNames<T>().Select(n => n.ToLowerInvariant())], defaultValue?.ToString().ToLowerInvariant());

    static T Parse<T>(string value) where T : struct, Enum => Enum.Parse<T>(value, ignoreCase: true);

    /// <summary>The parser's message on one line, its .NET type names put in words.</summary>
    static string OneLine(string message)
    {
        var text = string.Join(" ", message.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0));
        var parse = Regex.Match(text, @"^Cannot parse argument '(.*)' for option '(.*)' as expected type '(.*)'\.");
        if (!parse.Success) return text;
        var type = parse.Groups[3].Value;
        var expected = type.Contains("Double") ? "a number" : type.Contains("Int") ? "a whole number" : type.Contains("Boolean") ? "true or false" : "a value of " + type;
        return $"{parse.Groups[2].Value}: expected {expected}; found '{parse.Groups[1].Value}'.";
    }

    /// <summary>
    /// The checkpoint's recipe, refusing any given flag that contradicts it: a resume continues the run it
    /// stopped, so a different learning rate or batch size would silently be another run.
    /// </summary>
    static Recipe Resumed(string checkpoint, Recipe requested, IReadOnlyList<(string Flag, string Key)> given, ParseResult parsed)
    {
        Recipe saved;
        try
        {
            saved = Recipe.FromRun(Checkpoint.Read(checkpoint).Run);
        }
        catch (FormatException e)
        {
            throw new CheckpointException(checkpoint, e.Message, e);
        }
        var mine = requested.ToRun();
        var theirs = saved.ToRun();
        foreach (var (flag, key) in given)
        {
            if (mine[key] == theirs[key]) continue;
            var value = flag == "--recipe" || flag == "--normalize" ? $"{flag} {parsed.GetValue<string>(flag)} sets {key} {mine[key]}," : $"{flag} {mine[key]}";
            throw new ArgumentException(
                $"{value} but the checkpoint {checkpoint} was trained with {key} {theirs[key]}: a resume continues that run's recipe; leave {flag} out (or start a new run).");
        }
        return saved;
    }

    static int Guarded(TextWriter stderr, Action run)
    {
        try
        {
            TorchNative.EnsureLoaded();
            run();
            return 0;
        }
        catch (Exception e) when (e is TorchNativeLoadException or DatasetException)
        {
            // The library's messages whose later lines are the help (what was tried, how to get the files): whole.
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or TrainingDivergedException or InvalidOperationException
            or ArgumentException)
        {
            // IOException covers the library's file errors: dataset, checkpoint, weights, image.
            stderr.WriteLine($"error: {FirstLine(e.Message)}");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything else is a fault of this program or of libtorch: still one line, never a stack trace.
            stderr.WriteLine($"error: unexpected {e.GetType().Name}: {FirstLine(e.Message)}");
            return 1;
        }
    }

    /// <summary>The first line of a message: libtorch's errors continue with C++ frames. .NET's "(Parameter 'x')" is dropped.
    /// The program's own rule for its one-line errors, beside the library's internal one that cuts libtorch's messages.</summary>
    static string FirstLine(string message)
    {
        var line = message.Split('\n')[0].Trim();
        var parameter = line.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return parameter < 0 ? line : line[..parameter];
    }

    static void Train(Recipe recipe, RunOptions options, TextWriter stdout, bool progressBar)
    {
        if (!progressBar)
        {
            TrainingJob.Run(recipe, options, stdout);
            return;
        }
        // The live bar hides the cursor; Ctrl-C ends the process without Spectre's own restore, so restore it here.
        // Straight to the stream: Console.Out's lock may be held by the renderer the signal interrupted.
        ConsoleCancelEventHandler showCursor = (_, _) =>
        {
            using var terminal = Console.OpenStandardOutput();
            terminal.Write("\u001b[?25h"u8);
            terminal.Flush();
        };
        Console.CancelKeyPress += showCursor;
        try
        {
            Progress(recipe, options);
        }
        finally
        {
            Console.CancelKeyPress -= showCursor;
        }
    }

    static void Progress(Recipe recipe, RunOptions options)
    {
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

    static void Predict(string modelPath, string imagePath, ModelKind? arch, Normalize? normalization, string? figurePath, int top, TextWriter stdout)
    {
        if (top < 1) throw new ArgumentException($"--top: expected at least 1; found {top}.");
        // Checked before any work, so that a bad --figure does not come out only at the end.
        if (figurePath is not null && Directory.Exists(figurePath)) throw new ArgumentException($"--figure {figurePath}: is a directory; expected a PNG file to write.");
        if (figurePath is not null && Path.GetFullPath(figurePath) == Path.GetFullPath(imagePath))
            throw new ArgumentException($"--figure {figurePath}: is the --image itself; expected another file (the figure would overwrite your picture).");
        if (figurePath is not null) TrainingJob.Writable("--figure", Path.GetDirectoryName(Path.GetFullPath(figurePath))!);
        if (TrainingJob.IsOnnx(modelPath))
        {
            PredictOnnx(modelPath, imagePath, arch, normalization, figurePath, top, stdout);
            return;
        }
        using var predictor = LoadPredictor(modelPath, arch, normalization);
        var prediction = predictor.Predict(imagePath);
        var card = predictor.Card;
        stdout.WriteLine(predictor.CardFromFile
            ? $"{Path.GetFileName(imagePath)}: {card.Model} trained on {card.Dataset}"
            : string.Create(CultureInfo.InvariantCulture,
                $"{Path.GetFileName(imagePath)}: {card.Model} (no model card in {Path.GetFileName(modelPath)}: {card.Classes.Count} classes, normalization mean {card.Mean}, std {card.Std})"));
        if (predictor.KeyMapping is { } mapping) stdout.WriteLine($"  ({mapping})");
        Report(prediction.Ranked, prediction.Input, prediction.Probabilities, prediction.Classes, figurePath, top, stdout);
    }

    /// <summary>The <paramref name="top"/> classes, and the figure of the digit the model saw beside its probabilities.</summary>
    static void Report(IEnumerable<(string Class, int Label, float Probability)> ranked, TorchSharp.torch.Tensor digit, float[] probabilities,
        IReadOnlyList<string> classes, string? figurePath, int top, TextWriter stdout)
    {
        foreach (var (name, _, probability) in ranked.Take(top))
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-12} {probability * 100,6:F2}%"));
        if (figurePath is not null)
        {
            ViewClassify.Save(digit, TorchSharp.torch.tensor(probabilities), figurePath, classes);
            stdout.WriteLine($"Figure: {Path.GetFullPath(figurePath)}");
        }
    }

    /// <summary>Loads weights of any kind <see cref="Predictor"/> reads, turning its argument errors into the flags' words.</summary>
    static Predictor LoadPredictor(string modelPath, ModelKind? arch, Normalize? normalization)
    {
        try
        {
            return Predictor.Load(modelPath, arch, normalization);
        }
        catch (ArgumentException e) when (e.ParamName is "model" && arch is null)
        {
            throw new ArgumentException($"{FirstLine(e.Message)}: pass --arch lenet or --arch mlp.", e);
        }
        catch (ArgumentException e) when (e.ParamName is "model" or "normalization")
        {
            throw new ArgumentException($"{FirstLine(e.Message)} Leave out --{(e.ParamName == "model" ? "arch" : "normalize")} for this file.", e);
        }
    }

    /// <summary><c>predict</c> on an exported model: ONNX Runtime, the model card from the file's metadata.</summary>
    static void PredictOnnx(string modelPath, string imagePath, ModelKind? arch, Normalize? normalization, string? figurePath, int top, TextWriter stdout)
    {
        using var model = OnnxPredictor.Load(modelPath);
        var card = model.Card;
        if (arch is { } kind && kind != card.Model)
            throw new ArgumentException($"{modelPath}: the file's model card says {card.Model}, not {kind}. Leave out --arch for this file.");
        if (normalization is { } n && (n.Mean != card.Mean || n.Std != card.Std))
            throw new ArgumentException($"{modelPath}: the file's model card says normalization mean {card.Mean}, std {card.Std}, not mean {n.Mean}, std {n.Std}. Leave out --normalize for this file.");
        var prediction = model.Predict(imagePath);
        stdout.WriteLine($"{Path.GetFileName(imagePath)}: {card.Model} trained on {card.Dataset} (ONNX opset {model.Opset}, on ONNX Runtime)");
        using var digit = TorchSharp.torch.tensor(prediction.Input, [1, 28, 28]);
        Report(prediction.Ranked, digit, prediction.Probabilities, prediction.Classes, figurePath, top, stdout);
    }

    /// <summary><c>export</c>: any weights <c>predict</c> reads, written as ONNX with their model card.</summary>
    static void Export(string modelPath, string outputPath, ModelKind? arch, Normalize? normalization, TextWriter stdout)
    {
        // Checked before the weights are read, so that a wrong --output does not come out only at the end.
        if (!TrainingJob.IsOnnx(outputPath))
            throw new ArgumentException($"--output {outputPath}: expected a file ending in .onnx; found '{Path.GetExtension(outputPath)}'.");
        if (Directory.Exists(outputPath)) throw new ArgumentException($"--output {outputPath}: is a directory; expected an .onnx file to write.");
        if (Path.GetFullPath(outputPath) == Path.GetFullPath(modelPath))
            throw new ArgumentException($"--output {outputPath}: is the --model itself; expected another file.");
        TrainingJob.Writable("--output", Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        using var predictor = LoadPredictor(modelPath, arch, normalization);
        OnnxExporter.Export(predictor.Model, outputPath, predictor.Card);
        var card = predictor.Card;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Exported {card.Model} ({card.Dataset}, {card.Classes.Count} classes, normalization mean {card.Mean}, std {card.Std}) to {Path.GetFullPath(outputPath)}"));
        stdout.WriteLine($"  ONNX opset {OnnxExporter.Opset}, IR {OnnxExporter.IrVersion}: input N x {string.Join(" x ", ModelCard.InputShape(card.Model))}, output N x {card.Classes.Count} logits");
        if (predictor.KeyMapping is { } mapping) stdout.WriteLine($"  ({mapping})");
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
