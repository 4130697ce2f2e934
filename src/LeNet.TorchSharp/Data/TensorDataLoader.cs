using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Mini-batches over data already in memory (PyTorch's <c>DataLoader(dataset, batch_size, shuffle)</c>
/// for a dataset that fits on the device).
/// </summary>
/// <remarks>
/// Each epoch draws a fresh permutation from a generator seeded once, so epochs differ from each other
/// while two loaders with the same seed produce the same sequence of epochs. A batch is one
/// <c>index_select</c> with a slice of the permutation: no per-sample work (TorchSharp's per-sample
/// <c>DataLoader</c> is about 20x slower for MNIST). The last, partial batch is kept.
/// </remarks>
public sealed class TensorDataLoader : IDisposable
{
    readonly Func<Tensor, Tensor> imagesAt;
    readonly Func<long, long, Tensor> imagesRange;
    readonly Tensor labels;
    readonly Generator? generator;

    /// <summary>Samples per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Whether each epoch visits the samples in a new random order.</summary>
    public bool Shuffle { get; }

    /// <summary>Number of samples.</summary>
    public long Count => labels.shape[0];

    /// <summary>Batches per epoch, the last one possibly partial.</summary>
    public long BatchCount => (Count + BatchSize - 1) / BatchSize;

    /// <summary>Batches over a dataset: float images (its transform applied per batch) and labels.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public TensorDataLoader(MNIST dataset, int batchSize = 64, bool shuffle = true, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        (imagesAt, imagesRange, labels) = (dataset.ImagesAt, dataset.Images, dataset.Labels);
        (BatchSize, Shuffle) = (batchSize, shuffle);
        if (shuffle) generator = new Generator((ulong)seed, CPU);
    }

    /// <summary>Batches over <paramref name="images"/> (N x …) and <paramref name="labels"/> (N), which must share a device.</summary>
    /// <exception cref="ArgumentException">The counts differ, the tensors are on different devices, or the labels are not int64 of shape [N].</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public TensorDataLoader(Tensor images, Tensor labels, int batchSize = 64, bool shuffle = true, long seed = 0)
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
        (BatchSize, Shuffle) = (batchSize, shuffle);
        if (shuffle) generator = new Generator((ulong)seed, CPU);
    }

    /// <summary>
    /// The batches of one epoch. Each call starts a new epoch (a new order when shuffling).
    /// The caller owns each batch and disposes it after its step.
    /// </summary>
    public IEnumerable<Batch> Epoch()
    {
        // Drawn on the CPU generator (CUDA generators differ), then moved once per epoch.
        using var permutation = Shuffle ? randperm(Count, generator: generator) : null;
        using var order = permutation?.to(labels.device);
        for (long start = 0; start < Count; start += BatchSize)
        {
            var length = Math.Min(BatchSize, Count - start);
            if (order is null)
            {
                yield return new Batch(imagesRange(start, length), labels.narrow(0, start, length));
            }
            else
            {
                using var indices = order.narrow(0, start, length);
                yield return new Batch(imagesAt(indices), labels.index_select(0, indices));
            }
        }
    }

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
