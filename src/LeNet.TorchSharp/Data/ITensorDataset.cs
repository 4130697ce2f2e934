using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// A dataset held in tensors, fetched a batch at a time: PyTorch's map-style dataset with <c>__len__</c> and
/// <c>__getitems__</c>, so that a batch is one gather instead of one lookup per sample.
/// </summary>
/// <remarks><see cref="MNIST"/> is one; <see cref="TensorDataLoader"/> batches any.</remarks>
public interface ITensorDataset
{
    /// <summary>Samples in the dataset (<c>len(dataset)</c>).</summary>
    long Count { get; }

    /// <summary>Where the dataset's tensors are, so where batch indices are made.</summary>
    Device Device { get; }

    /// <summary>The samples at <paramref name="indices"/> (int64, on <see cref="Device"/>), one row of input and of target per index
    /// (<c>__getitems__</c>); new tensors the caller disposes.</summary>
    (Tensor Input, Tensor Target) GetItems(Tensor indices);
}
