using System.Collections;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Mini-batches over a dataset held in tensors: PyTorch's <c>DataLoader(dataset, batch_size, shuffle, drop_last)</c>,
/// with its defaults. <c>foreach (var (images, labels) in loader)</c> is one epoch.
/// </summary>
/// <remarks>
/// A batch is one <see cref="ITensorDataset.GetItems"/> with a slice of the epoch's order, never per-sample work.
/// With <c>shuffle</c>, each enumeration draws a fresh permutation from a generator seeded once (from
/// <c>seed</c>, else from torch's global generator, so <c>torch.manual_seed</c> makes it repeat, as in PyTorch):
/// epochs differ from each other, and two loaders with the same seed produce the same sequence of epochs. As with
/// TorchSharp's own <c>DataLoader</c>, each batch is disposed when the next one is fetched (and the last when the
/// loop ends), so a plain <c>foreach</c> keeps memory flat; pass <c>disposeBatch: false</c> to keep batches.
/// </remarks>
public sealed class TensorDataLoader : IReadOnlyCollection<(Tensor Input, Tensor Target)>, IDisposable
{
    readonly Generator? generator;
    readonly bool disposeBatch;
    readonly bool ownsDataset;

    /// <summary>The dataset batches are drawn from (<c>loader.dataset</c>).</summary>
    public ITensorDataset dataset { get; }

    /// <summary>Samples per batch.</summary>
    public int batch_size { get; }

    /// <summary>Whether each epoch visits the samples in a new random order (else in the dataset's order).</summary>
    public bool shuffle { get; }

    /// <summary>Whether a last batch smaller than <see cref="batch_size"/> is left out.</summary>
    public bool drop_last { get; }

    /// <summary>Batches per epoch (<c>len(loader)</c>).</summary>
    public int Count => checked((int)(drop_last ? dataset.Count / batch_size : (dataset.Count + batch_size - 1) / batch_size));

    /// <summary>Batches over <paramref name="dataset"/>, e.g. an <see cref="MNIST"/> split: its inputs and targets, on its device.</summary>
    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (PyTorch's default: 1).</param>
    /// <param name="shuffle">A new random order every epoch (else the dataset's order).</param>
    /// <param name="drop_last">Leave out a last batch smaller than <paramref name="batchSize"/>.</param>
    /// <param name="seed">Seeds the order; default: a seed drawn from torch's global generator.</param>
    /// <param name="disposeBatch">Dispose each batch when the next is fetched (TorchSharp's <c>DataLoader</c> default).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    /// <exception cref="ArgumentException">A <paramref name="seed"/> without <paramref name="shuffle"/>, where it would order nothing.</exception>
    public TensorDataLoader(ITensorDataset dataset, int batchSize = 1, bool shuffle = false, bool drop_last = false, long? seed = null, bool disposeBatch = true)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (seed is not null && !shuffle)
            throw new ArgumentException($"seed {seed} orders the samples only when shuffling; pass shuffle: true, or leave the seed out.", nameof(seed));
        this.dataset = dataset;
        (batch_size, this.shuffle, this.drop_last, this.disposeBatch) = (batchSize, shuffle, drop_last, disposeBatch);
        if (!shuffle) return;
        using var drawn = seed is null ? randint(long.MaxValue, [1]) : null;
        generator = new Generator((ulong)(seed ?? drawn!.item<long>()), CPU);
    }

    /// <summary>Batches over <paramref name="inputs"/> (N x …) and <paramref name="targets"/> (N x …), which must share a
    /// device: PyTorch's <c>DataLoader(TensorDataset(inputs, targets), …)</c>. The tensors stay the caller's.</summary>
    /// <exception cref="ArgumentException">The counts differ, the tensors are on different devices, or a <paramref name="seed"/> comes without <paramref name="shuffle"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is not positive.</exception>
    public TensorDataLoader(Tensor inputs, Tensor targets, int batchSize = 1, bool shuffle = false, bool drop_last = false, long? seed = null, bool disposeBatch = true)
        : this(new TensorPair(inputs, targets), batchSize, shuffle, drop_last, seed, disposeBatch)
    {
        ownsDataset = true;
    }

    /// <summary>The batches of one epoch; each enumeration starts a new epoch (a new order when shuffling).</summary>
    public IEnumerator<(Tensor Input, Tensor Target)> GetEnumerator()
    {
        // Owned here, not by whatever dispose scope the caller's loop has open when a batch is fetched:
        // the order lives for the whole epoch, a batch until the next is fetched.
        var samples = dataset.Count;
        using var cpuOrder = (shuffle ? randperm(samples, generator: generator) : arange(samples, dtype: ScalarType.Int64)).DetachFromDisposeScope();
        using var order = cpuOrder.to(dataset.Device).DetachFromDisposeScope();
        var end = drop_last ? samples / batch_size * batch_size : samples;
        for (long start = 0; start < end; start += batch_size)
        {
            (Tensor Input, Tensor Target) batch;
            using (var indices = order.narrow(0, start, Math.Min(batch_size, samples - start)).DetachFromDisposeScope())
                batch = dataset.GetItems(indices);
            batch.Input.DetachFromDisposeScope();
            batch.Target.DetachFromDisposeScope();
            try
            {
                yield return batch;
            }
            finally
            {
                if (disposeBatch)
                {
                    batch.Input.Dispose();
                    batch.Target.Dispose();
                }
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The shuffling generator's state (null without shuffling): saved in checkpoints so a resumed run sees the same epochs.</summary>
    internal Tensor? GetShuffleState() => generator?.get_state();

    /// <summary>Restores a state from <see cref="GetShuffleState"/>.</summary>
    /// <exception cref="InvalidOperationException">This loader does not shuffle.</exception>
    internal void SetShuffleState(Tensor state)
    {
        ArgumentNullException.ThrowIfNull(state);
        (generator ?? throw new InvalidOperationException("this loader does not shuffle; it has no generator state.")).set_state(state);
    }

    /// <summary>Releases the shuffling generator (a dataset passed in belongs to the caller).</summary>
    public void Dispose()
    {
        generator?.Dispose();
        if (ownsDataset) ((TensorPair)dataset).Dispose();
    }

    /// <summary>Two tensors of samples, PyTorch's <c>TensorDataset(inputs, targets)</c>, as views of the caller's tensors.</summary>
    sealed class TensorPair : ITensorDataset, IDisposable
    {
        readonly Tensor inputs;
        readonly Tensor targets;

        public TensorPair(Tensor inputs, Tensor targets)
        {
            ArgumentNullException.ThrowIfNull(inputs);
            ArgumentNullException.ThrowIfNull(targets);
            if (inputs.dim() == 0 || targets.dim() == 0 || inputs.shape[0] != targets.shape[0])
                throw new ArgumentException($"inputs and targets must have one row per sample; received inputs [{string.Join(", ", inputs.shape)}] and targets [{string.Join(", ", targets.shape)}].", nameof(targets));
            if (!Devices.Same(inputs.device, targets.device))
                throw new ArgumentException($"inputs and targets must be on the same device; received {inputs.device} and {targets.device}.", nameof(targets));
            // Aliases, so that the caller disposing their tensors does not pull the data from under the loader.
            (this.inputs, this.targets) = (inputs.alias().DetachFromDisposeScope(), targets.alias().DetachFromDisposeScope());
        }

        public long Count => targets.shape[0];

        public Device Device => targets.device;

        public (Tensor Input, Tensor Target) GetItems(Tensor indices) => (inputs.index_select(0, indices), targets.index_select(0, indices));

        public void Dispose()
        {
            inputs.Dispose();
            targets.Dispose();
        }
    }
}
