using System.Collections;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Mini-batches over data already in memory: PyTorch's <c>DataLoader(dataset, batch_size, shuffle)</c> for a
/// dataset that fits on the device. <c>foreach (var (images, labels) in loader)</c> is one epoch.
/// </summary>
/// <remarks>
/// Each enumeration draws a fresh permutation from a generator seeded once, so epochs differ from each other
/// while two loaders with the same seed produce the same sequence of epochs. A batch is one <c>index_select</c>
/// with a slice of the permutation, never per-sample work. The last, partial batch is kept. As with
/// TorchSharp's own <c>DataLoader</c>, each batch is disposed when the next one is fetched (and the last when
/// the loop ends), so a plain <c>foreach</c> keeps memory flat; pass <c>disposeBatch: false</c> to keep batches.
/// </remarks>
public sealed class TensorDataLoader : IReadOnlyCollection<(Tensor Images, Tensor Labels)>, IDisposable
{
    readonly Func<Tensor, Tensor> imagesAt;
    readonly Func<long, long, Tensor> imagesRange;
    readonly Tensor labels;
    readonly Generator? generator;
    readonly bool disposeBatch;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Samples in the data (<c>len(loader.dataset)</c>).</summary>
    public long Samples => labels.shape[0];

    /// <summary>Batches per epoch, the last one possibly partial (<c>len(loader)</c>).</summary>
    public int Count => checked((int)((Samples + BatchSize - 1) / BatchSize));

    /// <summary>Batches over a dataset: float images (its transform applied per batch) and int64 labels.</summary>
    /// <param name="dataset">The images and labels, on the device the batches should be on.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="shuffle">A new random order every epoch (else the dataset's order).</param>
    /// <param name="seed">Seeds the order.</param>
    /// <param name="disposeBatch">Dispose each batch when the next is fetched (TorchSharp's <c>DataLoader</c> default).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public TensorDataLoader(MNIST dataset, int batchSize = 64, bool shuffle = true, long seed = 0, bool disposeBatch = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        (imagesAt, imagesRange, labels) = (dataset.ImagesAt, dataset.Images, dataset.Labels);
        (BatchSize, Shuffle, this.disposeBatch) = (batchSize, shuffle, disposeBatch);
        if (shuffle) generator = new Generator((ulong)seed, CPU);
    }

    /// <summary>Batches over <paramref name="images"/> (N x …) and <paramref name="labels"/> (int64, N), which must share a device.</summary>
    /// <exception cref="ArgumentException">The counts differ, the tensors are on different devices, or the labels are not int64 of shape [N].</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public TensorDataLoader(Tensor images, Tensor labels, int batchSize = 64, bool shuffle = true, long seed = 0, bool disposeBatch = true)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (labels.dim() != 1 || labels.dtype != ScalarType.Int64)
            throw new ArgumentException($"labels must be int64 of shape [N]; received {labels.dtype} [{string.Join(", ", labels.shape)}].", nameof(labels));
        if (images.dim() == 0 || images.shape[0] != labels.shape[0])
            throw new ArgumentException($"images and labels must have the same count; received images [{string.Join(", ", images.shape)}] and {labels.shape[0]} labels.", nameof(labels));
        if (!Devices.Same(images.device, labels.device))
            throw new ArgumentException($"images and labels must be on the same device; received {images.device} and {labels.device}.", nameof(labels));

        (imagesAt, imagesRange, this.labels) = (indices => images.index_select(0, indices), (start, length) => images.narrow(0, start, length), labels);
        (BatchSize, Shuffle, this.disposeBatch) = (batchSize, shuffle, disposeBatch);
        if (shuffle) generator = new Generator((ulong)seed, CPU);
    }

    /// <summary>The batches of one epoch; each enumeration starts a new epoch (a new order when shuffling).</summary>
    public IEnumerator<(Tensor Images, Tensor Labels)> GetEnumerator()
    {
        // Owned here, not by whatever dispose scope the caller's loop has open when a batch is fetched:
        // the permutation lives for the whole epoch, a batch until the next is fetched.
        using var permutation = Shuffle ? randperm(Samples, generator: generator).DetachFromDisposeScope() : null;
        using var order = permutation?.to(labels.device).DetachFromDisposeScope();
        for (long start = 0; start < Samples; start += BatchSize)
        {
            var length = Math.Min(BatchSize, Samples - start);
            (Tensor Images, Tensor Labels) batch;
            if (order is null)
            {
                batch = (imagesRange(start, length), labels.narrow(0, start, length));
            }
            else
            {
                using var indices = order.narrow(0, start, length).DetachFromDisposeScope();
                batch = (imagesAt(indices), labels.index_select(0, indices));
            }
            batch.Images.DetachFromDisposeScope();
            batch.Labels.DetachFromDisposeScope();
            try
            {
                yield return batch;
            }
            finally
            {
                if (disposeBatch)
                {
                    batch.Images.Dispose();
                    batch.Labels.Dispose();
                }
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The shuffling generator's state (null without shuffling): saved in checkpoints so a resumed run sees the same epochs.</summary>
    public Tensor? GetShuffleState() => generator?.get_state();

    /// <summary>Restores a state from <see cref="GetShuffleState"/>.</summary>
    /// <exception cref="InvalidOperationException">This loader does not shuffle.</exception>
    public void SetShuffleState(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        (generator ?? throw new InvalidOperationException("this loader does not shuffle; it has no generator state.")).set_state(state);
    }

    /// <summary>Releases the shuffling generator (the data belongs to the caller).</summary>
    public void Dispose() => generator?.Dispose();
}
