namespace TrainMnist;

/// <summary>Where and how long a run trains, and what it writes: the flags that are not part of the <see cref="Recipe"/>.</summary>
public sealed record RunOptions
{
    /// <summary>Total epochs of the run (after a resume, the epochs already done count).</summary>
    public int Epochs { get; init; } = 5;

    /// <summary>The most epochs a run may have: far beyond any use, and far from the step counts a schedule can hold.</summary>
    public const int MaxEpochs = 10_000;

    /// <summary>Where to train.</summary>
    public DeviceChoice Device { get; init; } = DeviceChoice.Auto;

    /// <summary>Folder of the IDX files; null means the dataset's default (data/mnist, data/fashion-mnist).</summary>
    public string? DataRoot { get; init; }

    /// <summary>Download missing files.</summary>
    public bool Download { get; init; } = true;

    /// <summary>Folder for metrics, checkpoints, weights and figures; null means runs/&lt;dataset&gt;-&lt;model&gt;-&lt;time&gt;
    /// (or, when resuming, the checkpoint's folder).</summary>
    public string? RunFolder { get; init; }

    /// <summary>Start a new run in a run folder that holds an earlier run's files, replacing them (else refused).</summary>
    public bool Force { get; init; }

    /// <summary>A checkpoint to continue from.</summary>
    public string? Resume { get; init; }

    /// <summary>Resume on data other than the checkpoint's (its recorded fingerprint differs); refused otherwise.</summary>
    public bool AllowOtherData { get; init; }

    /// <summary>Also save the final weights here.</summary>
    public string? SavePath { get; init; }

    /// <summary>Write curves, the confusion matrix and the grid of confident mistakes at the end.</summary>
    public bool Plots { get; init; } = true;

    /// <summary>One training batch and a short evaluation, to check the set-up; writes nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Batches between progress reads of the loss.</summary>
    public int LogEvery { get; init; } = 100;
}
