namespace LeNetTorchSharp.Training;

/// <summary>When the <see cref="Trainer"/> steps its learning-rate scheduler (Lightning's <c>interval</c>).</summary>
public enum SchedulerInterval
{
    /// <summary>After every epoch: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR over epochs.</summary>
    Epoch,

    /// <summary>After every optimizer step: OneCycleLR and CyclicLR, whose <c>total_steps</c> count batches.</summary>
    Batch,
}
