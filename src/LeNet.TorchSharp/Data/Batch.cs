using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>One mini-batch: images and their labels, on the dataset's device. Dispose it after the step.</summary>
public readonly record struct Batch(Tensor Images, Tensor Labels) : IDisposable
{
    /// <summary>Samples in this batch (the last batch of an epoch may be smaller).</summary>
    public long Size => Labels.shape[0];

    /// <summary>Releases both tensors.</summary>
    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
