using static TorchSharp.torch.optim;
using static TorchSharp.torch.optim.lr_scheduler;

namespace LeNetTorchSharp.Training;

/// <summary>How the learning rate changes during training.</summary>
public enum ScheduleKind
{
    /// <summary>The optimizer's learning rate throughout.</summary>
    Constant,

    /// <summary><c>StepLR</c>: multiply by <see cref="LrSchedule.Gamma"/> every <see cref="LrSchedule.StepSize"/> epochs.</summary>
    Step,

    /// <summary><c>OneCycleLR</c>: warm up to the optimizer's learning rate, then anneal to near zero by the last step.</summary>
    OneCycle,
}

/// <summary>A learning-rate schedule; the <see cref="Trainer"/> steps it per epoch (Step) or per batch (OneCycle).</summary>
/// <param name="Kind">Which schedule.</param>
/// <param name="StepSize">Epochs between decays, for <see cref="ScheduleKind.Step"/>.</param>
/// <param name="Gamma">Decay factor, for <see cref="ScheduleKind.Step"/>.</param>
public sealed record LrSchedule(ScheduleKind Kind = ScheduleKind.Constant, int StepSize = 1, double Gamma = 0.7)
{
    /// <summary>Whether the schedule advances after every batch rather than every epoch.</summary>
    public bool PerBatch => Kind == ScheduleKind.OneCycle;

    /// <summary>Builds the scheduler for a run of <paramref name="epochs"/> epochs of <paramref name="batchesPerEpoch"/> batches, or null for a constant rate.</summary>
    public LRScheduler? Create(Optimizer optimizer, double learningRate, int epochs, long batchesPerEpoch)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchesPerEpoch);
        return Kind switch
        {
            ScheduleKind.Constant => null,
            ScheduleKind.Step => StepSize > 0 && double.IsFinite(Gamma) && Gamma > 0
                ? StepLR(optimizer, StepSize, Gamma)
                : throw new ArgumentOutOfRangeException(nameof(StepSize), $"StepLR needs StepSize > 0 and Gamma > 0; found {StepSize} and {Gamma}."),
            ScheduleKind.OneCycle => OneCycleLR(optimizer, learningRate, total_steps: checked((int)(epochs * batchesPerEpoch))),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown schedule."),
        };
    }
}
