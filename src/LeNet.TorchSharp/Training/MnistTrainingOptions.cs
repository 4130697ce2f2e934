using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;

namespace LeNetTorchSharp.Training;

/// <summary>
/// Everything a training run on MNIST needs: the trainer program's flags. The defaults are the recipe
/// that reaches 99% test accuracy with LeNet (README, "Results").
/// </summary>
public sealed record MnistTrainingOptions
{
    /// <summary>LeNet (default) or the MLP.</summary>
    public ModelKind Model { get; init; } = ModelKind.LeNet;

    /// <summary>Passes over the training set.</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>Samples per step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Update rule.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;

    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 0.05;

    /// <summary>Momentum for SGD and RMSprop.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Nesterov momentum for SGD.</summary>
    public bool Nesterov { get; init; } = true;

    /// <summary>L2 penalty.</summary>
    public double WeightDecay { get; init; } = 0;

    /// <summary>Learning-rate schedule.</summary>
    public LrSchedule Schedule { get; init; } = new(ScheduleKind.OneCycle);

    /// <summary>Pixel normalization applied after scaling to [0, 1].</summary>
    public Normalize Normalization { get; init; } = Normalize.MnistStatistics;

    /// <summary>Seeds the weights and the batch order; with the same seed a CPU run repeats its losses exactly.</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Where to train.</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>Folder of the IDX files.</summary>
    public string DataRoot { get; init; } = MNIST.DefaultRoot;

    /// <summary>Download missing files.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Where to save the trained weights (TorchSharp format), or null.</summary>
    public string? SavePath { get; init; }

    /// <summary>One training batch and a short evaluation, to check the set-up.</summary>
    public bool DryRun { get; init; }

    /// <summary>Batches between progress reads of the loss.</summary>
    public int LogEvery { get; init; } = 100;

    /// <summary>The tutorial's plain recipe: SGD, lr 0.01, no momentum, constant rate, (0.5, 0.5) normalization.</summary>
    public static MnistTrainingOptions Tutorial => new()
    {
        Optimizer = OptimizerKind.Sgd,
        LearningRate = 0.01,
        Momentum = 0,
        Nesterov = false,
        Schedule = new LrSchedule(ScheduleKind.Constant),
        Normalization = Normalize.Tutorial,
    };
}
