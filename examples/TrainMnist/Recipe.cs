using System.Globalization;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;

namespace TrainMnist;

/// <summary>The update rules the trainer program offers (<c>--optimizer</c>).</summary>
public enum OptimizerKind
{
    /// <summary>SGD with optional momentum and Nesterov momentum: the library's <c>FusedSGD</c>, <c>optim.SGD</c>'s bits in one pass per parameter.</summary>
    Sgd,

    /// <summary><c>optim.Adam</c>.</summary>
    Adam,

    /// <summary><c>optim.RMSprop</c>.</summary>
    RMSprop,
}

/// <summary>How the learning rate changes during a run (<c>--schedule</c>).</summary>
public enum ScheduleKind
{
    /// <summary>The optimizer's learning rate throughout.</summary>
    Constant,

    /// <summary><c>StepLR</c>: multiply by <see cref="Recipe.Gamma"/> every <see cref="Recipe.StepSize"/> epochs.</summary>
    Step,

    /// <summary><c>OneCycleLR</c>: warm up to the learning rate, then anneal to near zero by the last step.</summary>
    OneCycle,
}

/// <summary>
/// What is trained and how: the trainer program's recipe. The defaults (<see cref="Fast"/>) take LeNet past 99%
/// test accuracy in 5 epochs; <see cref="Tutorial"/> is the tutorial's plain SGD. A checkpoint keeps its run's
/// recipe (<see cref="ToRun"/>), so a resume continues with exactly the same one.
/// </summary>
public sealed record Recipe
{
    /// <summary>Version of the run description <see cref="ToRun"/> writes (2 added the weight average; 1 is read as without one).</summary>
    public const int Version = 2;

    /// <summary>LeNet (default) or the MLP.</summary>
    public ModelKind Model { get; init; } = ModelKind.LeNet;

    /// <summary>MNIST (default) or Fashion-MNIST.</summary>
    public DatasetKind Dataset { get; init; } = DatasetKind.Mnist;

    /// <summary>Samples per step: 128 rather than the tutorial's 64, which costs more time per epoch at the same accuracy.</summary>
    public int BatchSize { get; init; } = 128;

    /// <summary>Update rule.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>(Peak) learning rate.</summary>
    public double LearningRate { get; init; } = 0.1;

    /// <summary>Momentum for SGD and RMSprop.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; } = true;

    /// <summary>L2 penalty.</summary>
    public double WeightDecay { get; init; }

    /// <summary>Learning-rate schedule.</summary>
    public ScheduleKind Schedule { get; init; } = ScheduleKind.OneCycle;

    /// <summary>Epochs between decays, for <see cref="ScheduleKind.Step"/>.</summary>
    public int StepSize { get; init; } = 1;

    /// <summary>Decay factor, for <see cref="ScheduleKind.Step"/>.</summary>
    public double Gamma { get; init; } = 0.7;

    /// <summary>
    /// Decay of the exponential moving average of the weights that is evaluated and saved (0 for the trained weights
    /// themselves): 0.99 passes 99% on MNIST an epoch or two earlier at the same final accuracy (bench/history.md).
    /// </summary>
    public double AverageDecay { get; init; } = 0.99;

    /// <summary>Mean subtracted from pixels in [0, 1]: MNIST's own by default.</summary>
    public double NormalizeMean { get; init; } = Normalize.MnistStatistics.Mean;

    /// <summary>Standard deviation the pixels are divided by.</summary>
    public double NormalizeStd { get; init; } = Normalize.MnistStatistics.Std;

    /// <summary>Seeds the weights and the batch order; with the same seed a CPU run repeats its losses exactly.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>
    /// The default recipe: SGD with Nesterov momentum, a one-cycle schedule (learning rate up to 0.1 and down to near
    /// zero, momentum from 0.95 down to 0.85 and back), batch 128, MNIST's statistics, the weights' moving average
    /// (decay 0.99) evaluated and saved.
    /// </summary>
    public static Recipe Fast => new();

    /// <summary>The tutorial's plain recipe: SGD, lr 0.01, no momentum, constant rate, batch 64, (0.5, 0.5) normalization, the trained weights themselves.</summary>
    public static Recipe Tutorial => new()
    {
        AverageDecay = 0,
        BatchSize = 64,
        LearningRate = 0.01,
        Momentum = 0,
        Nesterov = false,
        Schedule = ScheduleKind.Constant,
        NormalizeMean = 0.5,
        NormalizeStd = 0.5,
    };

    /// <summary>The pixel normalization.</summary>
    public Normalize Normalization => new(NormalizeMean, NormalizeStd);

    /// <summary>What the weights of this recipe are, trained on a dataset of <paramref name="classes"/>, for the files the run writes.</summary>
    public ModelCard Card(IReadOnlyList<string> classes) => new(Model, Dataset.DisplayName(), classes, NormalizeMean, NormalizeStd);

    /// <summary>When the scheduler steps: one-cycle counts batches, the others epochs.</summary>
    public SchedulerInterval SchedulerInterval => Schedule == ScheduleKind.OneCycle ? SchedulerInterval.Batch : SchedulerInterval.Epoch;

    /// <summary>Throws unless every setting is usable, naming the flag: called before any data is loaded.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Check()
    {
        if (BatchSize <= 0) throw new ArgumentException($"--batch-size: expected a positive number of samples; found {BatchSize}.");
        if (!double.IsFinite(LearningRate) || LearningRate < 0) throw new ArgumentException($"--lr: expected a finite number ≥ 0; found {Format(LearningRate)}.");
        if (!double.IsFinite(Momentum) || Momentum < 0) throw new ArgumentException($"--momentum: expected a finite number ≥ 0; found {Format(Momentum)}.");
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0) throw new ArgumentException($"--weight-decay: expected a finite number ≥ 0; found {Format(WeightDecay)}.");
        // libtorch applies these to float32 weights: a larger value has no float32 to become.
        foreach (var (flag, value) in new[] { ("--lr", LearningRate), ("--momentum", Momentum), ("--weight-decay", WeightDecay), ("--gamma", Gamma) })
            if (Math.Abs(value) > float.MaxValue)
                throw new ArgumentException($"{flag}: expected a number a float32 can hold (at most {float.MaxValue.ToString("G3", CultureInfo.InvariantCulture)}); found {Format(value)}.");
        if (Nesterov && (Optimizer != OptimizerKind.Sgd || Momentum <= 0))
            throw new ArgumentException($"--nesterov true: expected --optimizer sgd with --momentum above 0; found --optimizer {Optimizer.ToString().ToLowerInvariant()} with --momentum {Format(Momentum)}.");
        if (!(AverageDecay >= 0 && AverageDecay < 1))
            throw new ArgumentException($"--ema: expected a decay in [0, 1) (0 evaluates the trained weights themselves); found {Format(AverageDecay)}.");
        if (StepSize <= 0) throw new ArgumentException($"--step-size: expected a positive number of epochs; found {StepSize}.");
        if (!double.IsFinite(Gamma) || Gamma <= 0) throw new ArgumentException($"--gamma: expected a finite number > 0; found {Format(Gamma)}.");
        if (!double.IsFinite(NormalizeMean) || !double.IsFinite(NormalizeStd) || NormalizeStd <= 0)
            throw new ArgumentException($"the normalization: expected a finite mean and a positive std; found {Format(NormalizeMean)} and {Format(NormalizeStd)}.");
    }

    /// <summary>
    /// Whether the schedule sets the momentum itself: one-cycle moves SGD's and RMSprop's momentum (Adam's first beta)
    /// from 0.95 down to 0.85 and back against the learning rate, as PyTorch's <c>OneCycleLR</c> does by default, so
    /// <see cref="Momentum"/> has no effect then.
    /// </summary>
    public bool CyclesMomentum => Schedule == ScheduleKind.OneCycle;

    /// <summary>
    /// Throws if a recipe flag the user gave has no effect on this recipe, naming why: a setting silently ignored
    /// trains another run than the one asked for.
    /// </summary>
    /// <param name="given">The recipe flags given on the command line, as typed (<c>--momentum</c>).</param>
    /// <exception cref="ArgumentException">A given flag would be ignored.</exception>
    public void CheckGivenFlagsTakeEffect(IReadOnlyCollection<string> given)
    {
        ArgumentNullException.ThrowIfNull(given);
        if (given.Contains("--momentum") && Optimizer == OptimizerKind.Adam)
            throw new ArgumentException("--momentum: expected --optimizer sgd or rmsprop; found --optimizer adam, which has no momentum setting.");
        if (given.Contains("--momentum") && CyclesMomentum)
            throw new ArgumentException($"--momentum {Format(Momentum)}: expected --schedule constant or step, where it sets the momentum; found --schedule onecycle, " +
                "which moves the momentum from 0.95 down to 0.85 and back itself (as PyTorch's OneCycleLR does).");
        foreach (var flag in new[] { "--gamma", "--step-size" })
            if (given.Contains(flag) && Schedule != ScheduleKind.Step)
                throw new ArgumentException($"{flag}: expected --schedule step, the schedule it configures; found --schedule {Schedule.ToString().ToLowerInvariant()}.");
    }

    /// <summary>The moving average of <paramref name="model"/>'s weights the recipe evaluates and saves, or null for the weights themselves.</summary>
    public ExponentialMovingAverage? CreateAverage(nn.Module model) => AverageDecay > 0 ? new ExponentialMovingAverage(model, AverageDecay) : null;

    /// <summary>The optimizer over <paramref name="parameters"/>: the CLI word mapped to TorchSharp's own.</summary>
    public optim.Optimizer CreateOptimizer(IEnumerable<Parameter> parameters) => Optimizer switch
    {
        OptimizerKind.Sgd => new FusedSGD(parameters, LearningRate, Momentum, weight_decay: WeightDecay, nesterov: Nesterov),
        OptimizerKind.Adam => optim.Adam(parameters, LearningRate, weight_decay: WeightDecay),
        OptimizerKind.RMSprop => optim.RMSProp(parameters, LearningRate, momentum: Momentum, weight_decay: WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(Optimizer), Optimizer, "unknown optimizer."),
    };

    /// <summary>The scheduler for a run of <paramref name="epochs"/> epochs of <paramref name="batchesPerEpoch"/> batches, or null for a constant rate.</summary>
    public LRScheduler? CreateScheduler(optim.Optimizer optimizer, int epochs, int batchesPerEpoch) => Schedule switch
    {
        ScheduleKind.Constant => null,
        ScheduleKind.Step => StepLR(optimizer, StepSize, Gamma),
        ScheduleKind.OneCycle => OneCycleLR(optimizer, LearningRate, total_steps: checked(epochs * batchesPerEpoch)),
        _ => throw new ArgumentOutOfRangeException(nameof(Schedule), Schedule, "unknown schedule."),
    };

    /// <summary>The recipe as a checkpoint's run description: one entry per setting, named as its flag.</summary>
    public IReadOnlyDictionary<string, string> ToRun() => new Dictionary<string, string>
    {
        ["recipe-version"] = Version.ToString(CultureInfo.InvariantCulture),
        ["model"] = Model.ToString(),
        ["dataset"] = Dataset.ToString(),
        ["batch-size"] = BatchSize.ToString(CultureInfo.InvariantCulture),
        ["optimizer"] = Optimizer.ToString(),
        ["lr"] = Format(LearningRate),
        ["momentum"] = Format(Momentum),
        ["nesterov"] = Nesterov ? "true" : "false",
        ["weight-decay"] = Format(WeightDecay),
        ["schedule"] = Schedule.ToString(),
        ["step-size"] = StepSize.ToString(CultureInfo.InvariantCulture),
        ["gamma"] = Format(Gamma),
        ["normalize-mean"] = Format(NormalizeMean),
        ["normalize-std"] = Format(NormalizeStd),
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture),
        ["ema"] = Format(AverageDecay),
    };

    /// <summary>Reads a recipe back from a checkpoint's run description.</summary>
    /// <exception cref="FormatException">An entry is missing or unreadable, or the description is of another version; the message names the entry.</exception>
    public static Recipe FromRun(IReadOnlyDictionary<string, string> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        string Get(string key) => run.TryGetValue(key, out var value) ? value : throw new FormatException($"the run description has no '{key}' (not written by this trainer program?)");
        T Parse<T>(string key, Func<string, (bool, T)> parse)
        {
            var text = Get(key);
            var (ok, value) = parse(text);
            return ok ? value : throw new FormatException($"the run description's '{key}' is '{text}', which is not valid");
        }
        (bool, TEnum) Enum<TEnum>(string text) where TEnum : struct, System.Enum => (System.Enum.TryParse<TEnum>(text, out var v) && System.Enum.IsDefined(v), v);
        (bool, double) Double(string text) => (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v), v);
        (bool, int) Int(string text) => (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v), v);

        var version = Parse("recipe-version", Int);
        if (version is not (1 or Version))
            throw new FormatException($"the run description is version {version}; this trainer program reads versions 1 and {Version}");
        return new Recipe
        {
            Model = Parse("model", Enum<ModelKind>),
            Dataset = Parse("dataset", Enum<DatasetKind>),
            BatchSize = Parse("batch-size", Int),
            Optimizer = Parse("optimizer", Enum<OptimizerKind>),
            LearningRate = Parse("lr", Double),
            Momentum = Parse("momentum", Double),
            Nesterov = Parse("nesterov", text => (bool.TryParse(text, out var v), v)),
            WeightDecay = Parse("weight-decay", Double),
            Schedule = Parse("schedule", Enum<ScheduleKind>),
            StepSize = Parse("step-size", Int),
            Gamma = Parse("gamma", Double),
            NormalizeMean = Parse("normalize-mean", Double),
            NormalizeStd = Parse("normalize-std", Double),
            Seed = Parse("seed", text => (long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v), v)),
            // Version 1 runs trained and evaluated the weights themselves.
            AverageDecay = version == 1 ? 0 : Parse("ema", Double),
        };
    }

    static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
