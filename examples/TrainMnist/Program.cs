// Trains LeNet (or the MLP) on MNIST and reports test accuracy after each epoch.
//   dotnet run --project examples/TrainMnist -- --model lenet --epochs 3
// Every flag has a default that works; --help lists them.
using System.CommandLine;
using LeNetTorchSharp;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Native;
using LeNetTorchSharp.Training;

var defaults = new MnistTrainingOptions();

var model = new Option<ModelKind>("--model") { Description = "lenet or mlp", DefaultValueFactory = _ => defaults.Model };
var recipe = new Option<string>("--recipe") { Description = "fast: the default recipe (SGD + Nesterov, one-cycle lr, MNIST statistics); tutorial: plain SGD lr 0.01, normalization (0.5, 0.5)", DefaultValueFactory = _ => "fast" };
recipe.AcceptOnlyFromAmong("fast", "tutorial");
var epochs = new Option<int?>("--epochs") { Description = $"passes over the training set [default: {defaults.Epochs}]" };
var batchSize = new Option<int?>("--batch-size") { Description = $"samples per step [default: {defaults.BatchSize}]" };
var lr = new Option<double?>("--lr") { Description = $"(peak) learning rate [default: {defaults.LearningRate}]" };
var optimizer = new Option<OptimizerKind?>("--optimizer") { Description = $"sgd, adam or rmsprop [default: {defaults.Optimizer.ToString().ToLowerInvariant()}]" };
var momentum = new Option<double?>("--momentum") { Description = $"momentum for sgd and rmsprop [default: {defaults.Momentum}]" };
var nesterov = new Option<bool?>("--nesterov") { Description = $"Nesterov momentum for sgd (true/false) [default: {defaults.Nesterov.ToString().ToLowerInvariant()}]" };
var schedule = new Option<ScheduleKind?>("--schedule") { Description = $"constant, step or onecycle [default: {defaults.Schedule.Kind.ToString().ToLowerInvariant()}]" };
var gamma = new Option<double?>("--gamma") { Description = "decay factor per --step-size epochs for --schedule step [default: 0.7]" };
var stepSize = new Option<int?>("--step-size") { Description = "epochs between decays for --schedule step [default: 1]" };
var normalize = new Option<string?>("--normalize") { Description = "mnist (mean 0.1307, std 0.3081) or tutorial (0.5, 0.5)" };
normalize.AcceptOnlyFromAmong("mnist", "tutorial");
var seed = new Option<long?>("--seed") { Description = $"seeds weights and batch order; a CPU run with a seed repeats exactly [default: {defaults.Seed}]" };
var device = new Option<DeviceChoice>("--device") { Description = "auto, cpu or cuda (cuda needs the CUDA build: dotnet build -p:TorchBackend=cuda)", DefaultValueFactory = _ => defaults.Device };
var data = new Option<string>("--data") { Description = "folder with the MNIST IDX files", DefaultValueFactory = _ => defaults.DataRoot };
var noDownload = new Option<bool>("--no-download") { Description = "fail instead of downloading missing files" };
var save = new Option<string?>("--save") { Description = "save the trained weights (TorchSharp format) to this path" };
var dryRun = new Option<bool>("--dry-run") { Description = "train one batch and evaluate briefly, to check the set-up" };

var root = new RootCommand("Train LeNet or an MLP on MNIST with TorchSharp.")
{
    model, recipe, epochs, batchSize, lr, optimizer, momentum, nesterov, schedule, gamma, stepSize, normalize,
    seed, device, data, noDownload, save, dryRun,
};

root.SetAction(parsed =>
{
    var options = parsed.GetValue(recipe) == "tutorial" ? MnistTrainingOptions.Tutorial : defaults;
    var scheduleKind = parsed.GetValue(schedule) ?? options.Schedule.Kind;
    options = options with
    {
        Model = parsed.GetValue(model),
        Epochs = parsed.GetValue(epochs) ?? options.Epochs,
        BatchSize = parsed.GetValue(batchSize) ?? options.BatchSize,
        LearningRate = parsed.GetValue(lr) ?? options.LearningRate,
        Optimizer = parsed.GetValue(optimizer) ?? options.Optimizer,
        Momentum = parsed.GetValue(momentum) ?? options.Momentum,
        Nesterov = parsed.GetValue(nesterov) ?? options.Nesterov,
        Schedule = new LrSchedule(scheduleKind, parsed.GetValue(stepSize) ?? options.Schedule.StepSize, parsed.GetValue(gamma) ?? options.Schedule.Gamma),
        Normalization = parsed.GetValue(normalize) switch
        {
            "mnist" => Normalize.MnistStatistics,
            "tutorial" => Normalize.Tutorial,
            _ => options.Normalization,
        },
        Seed = parsed.GetValue(seed) ?? options.Seed,
        Device = parsed.GetValue(device),
        DataRoot = parsed.GetValue(data)!,
        Download = !parsed.GetValue(noDownload),
        SavePath = parsed.GetValue(save),
        DryRun = parsed.GetValue(dryRun),
    };
    // Adam and RMSprop have no Nesterov option; the default recipe's Nesterov applies to SGD only.
    if (options.Optimizer != OptimizerKind.Sgd && parsed.GetValue(nesterov) is null) options = options with { Nesterov = false };

    try
    {
        TorchNative.EnsureLoaded();
        MnistTraining.Run(options, Console.Out);
        return 0;
    }
    catch (Exception e) when (e is FileNotFoundException or DatasetFormatException or DatasetDownloadException
        or TrainingDivergedException or InvalidOperationException or ArgumentException or TorchNativeLoadException or IOException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});

return root.Parse(args).Invoke();
