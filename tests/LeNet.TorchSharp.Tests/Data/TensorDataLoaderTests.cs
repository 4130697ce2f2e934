using LeNetTorchSharp.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Data;

public class TensorDataLoaderTests
{
    /// <summary>Sample i has image value i and label i % 10, so a batch tells which samples it holds.</summary>
    static (Tensor Images, Tensor Labels) Numbered(int n) =>
        (arange(n, dtype: ScalarType.Float32).reshape(n, 1, 1, 1), arange(n, dtype: ScalarType.Int64).remainder(10));

    static List<long[]> EpochOrder(TensorDataLoader loader) =>
        loader.Select(b => b.Input.flatten().to(ScalarType.Int64).data<long>().ToArray()).ToList();

    [Test]
    public void Every_sample_appears_exactly_once_per_epoch_and_the_last_partial_batch_is_kept()
    {
        var (images, labels) = Numbered(150);
        using var loader = new TensorDataLoader(images, labels, batchSize: 64, shuffle: true, seed: 3);

        var batches = EpochOrder(loader);

        Assert.That(loader.Count, Is.EqualTo(3), "len(loader)");
        Assert.That(loader.dataset.Count, Is.EqualTo(150), "len(loader.dataset)");
        Assert.That(batches.Select(b => b.Length), Is.EqualTo(new[] { 64, 64, 22 }));
        Assert.That(batches.SelectMany(b => b).Order(), Is.EqualTo(Enumerable.Range(0, 150).Select(i => (long)i)));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void An_epoch_over_MNIST_leaves_no_tensor_for_the_garbage_collector(bool shuffle)
    {
        // Tensors left undisposed wait for the collector, which sees only their small managed handles: a
        // batch's 128 KB of bytes each, 60 MB an epoch of MNIST, once piled up that way.
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 40);
        using var train = new MNIST(temp.Path, train: true, transform: Normalize.Tutorial, imageSize: 32);
        using var loader = new TensorDataLoader(train, batchSize: 16, shuffle: shuffle, seed: shuffle ? 1 : null);

        using var scope = NewDisposeScope();
        var batches = new List<(Tensor, Tensor)>();
        foreach (var batch in loader)
            batches.Add(batch);

        Assert.That(batches, Has.Count.EqualTo(3));
        Assert.That(batches.All(b => b.Item1.IsInvalid && b.Item2.IsInvalid), Is.True, "each batch is disposed once the next is fetched, the last when the loop ends");
        var alive = scope.DisposablesView.OfType<Tensor>().Where(t => !t.IsInvalid).ToList();
        Assert.That(alive, Is.Empty, () => $"left alive: {string.Join(", ", alive.Select(t => $"{t.dtype} [{string.Join(", ", t.shape)}]"))}");
    }

    [Test]
    public void With_disposeBatch_false_the_batches_are_the_callers_to_keep()
    {
        var (images, labels) = Numbered(10);
        using var loader = new TensorDataLoader(images, labels, batchSize: 4, disposeBatch: false);
        var batches = loader.ToList();
        Assert.That(batches.Select(b => b.Target.shape[0]), Is.EqualTo(new long[] { 4, 4, 2 }));
        foreach (var (x, y) in batches)
        {
            Assert.That(x.IsInvalid || y.IsInvalid, Is.False);
            x.Dispose();
            y.Dispose();
        }
    }

    [Test]
    public void A_dispose_scope_the_caller_opens_around_the_loop_does_not_take_the_loaders_tensors()
    {
        var (images, labels) = Numbered(12);
        using var loader = new TensorDataLoader(images, labels, batchSize: 4, shuffle: true, seed: 2);
        var seen = 0;
        using (NewDisposeScope())
        {
            foreach (var (x, y) in loader)
            {
                // A scope per step, as the tutorial's loop has: what the loader made outlives it.
                using (NewDisposeScope()) x.add(1).sum();
                seen += (int)y.shape[0];
            }
        }
        Assert.That(seen, Is.EqualTo(12));
    }

    [Test]
    public void Labels_travel_with_their_images()
    {
        var (images, labels) = Numbered(100);
        using var loader = new TensorDataLoader(images, labels, batchSize: 32, shuffle: true, seed: 1);
        foreach (var (x, y) in loader)
            Assert.That(y.data<long>().ToArray(), Is.EqualTo(x.flatten().to(ScalarType.Int64).remainder(10).data<long>().ToArray()));
    }

    [Test]
    public void Each_epoch_has_a_new_order_and_the_same_seed_repeats_the_sequence()
    {
        var (images, labels) = Numbered(200);
        using var a = new TensorDataLoader(images, labels, batchSize: 50, shuffle: true, seed: 42);
        using var b = new TensorDataLoader(images, labels, batchSize: 50, shuffle: true, seed: 42);
        using var c = new TensorDataLoader(images, labels, batchSize: 50, shuffle: true, seed: 43);

        var a1 = EpochOrder(a).SelectMany(x => x).ToArray();
        var a2 = EpochOrder(a).SelectMany(x => x).ToArray();
        var b1 = EpochOrder(b).SelectMany(x => x).ToArray();
        var b2 = EpochOrder(b).SelectMany(x => x).ToArray();
        var c1 = EpochOrder(c).SelectMany(x => x).ToArray();

        Assert.That(a2, Is.Not.EqualTo(a1), "epoch 2 differs from epoch 1");
        Assert.That(b1, Is.EqualTo(a1), "same seed, same first epoch");
        Assert.That(b2, Is.EqualTo(a2), "same seed, same second epoch");
        Assert.That(c1, Is.Not.EqualTo(a1), "another seed, another order");
    }

    [Test]
    public void Without_shuffle_batches_are_in_order()
    {
        var (images, labels) = Numbered(10);
        using var loader = new TensorDataLoader(images, labels, batchSize: 4, shuffle: false);
        Assert.That(EpochOrder(loader).SelectMany(x => x), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
    }

    [Test]
    public void The_defaults_are_PyTorchs_one_sample_per_batch_in_order_with_the_last_batch_kept()
    {
        var (images, labels) = Numbered(5);
        using var loader = new TensorDataLoader(images, labels);
        Assert.That((loader.batch_size, loader.shuffle, loader.drop_last), Is.EqualTo((1, false, false)));
        Assert.That(EpochOrder(loader), Is.EqualTo(Enumerable.Range(0, 5).Select(i => new long[] { i })));
    }

    [Test]
    public void Drop_last_leaves_out_the_partial_batch_and_len_counts_only_full_ones()
    {
        var (images, labels) = Numbered(10);
        using var ordered = new TensorDataLoader(images, labels, batchSize: 4, drop_last: true);
        using var shuffled = new TensorDataLoader(images, labels, batchSize: 4, shuffle: true, drop_last: true, seed: 1);
        Assert.That(ordered.Count, Is.EqualTo(2));
        Assert.That(EpochOrder(ordered).SelectMany(x => x), Is.EqualTo(Enumerable.Range(0, 8).Select(i => (long)i)));
        Assert.That(EpochOrder(shuffled).Select(b => b.Length), Is.EqualTo(new[] { 4, 4 }));
    }

    [Test]
    public void Without_a_seed_the_order_follows_torch_manual_seed_as_in_PyTorch()
    {
        var (images, labels) = Numbered(50);
        manual_seed(11);
        using var a = new TensorDataLoader(images, labels, batchSize: 10, shuffle: true);
        manual_seed(11);
        using var b = new TensorDataLoader(images, labels, batchSize: 10, shuffle: true);
        Assert.That(EpochOrder(b), Is.EqualTo(EpochOrder(a)));
    }

    [Test]
    public void Any_dataset_of_tensors_is_batched_through_its_GetItems()
    {
        var dataset = new Squares(7);
        using var loader = new TensorDataLoader(dataset, batchSize: 3, shuffle: true, seed: 4);
        var seen = new List<long>();
        foreach (var (x, y) in loader)
        {
            Assert.That(y.data<long>().ToArray(), Is.EqualTo(x.data<long>().Select(v => v * v).ToArray()));
            seen.AddRange(x.data<long>().ToArray());
        }
        Assert.That(seen.Order(), Is.EqualTo(Enumerable.Range(0, 7).Select(i => (long)i)));
        Assert.That(dataset.Calls, Is.EqualTo(3), "one GetItems per batch, never one per sample");
    }

    [Test]
    public void The_callers_tensors_can_be_disposed_while_the_loader_still_uses_the_data()
    {
        var (images, labels) = Numbered(6);
        using var loader = new TensorDataLoader(images, labels, batchSize: 6);
        images.Dispose();
        labels.Dispose();
        Assert.That(EpochOrder(loader).Single(), Is.EqualTo(Enumerable.Range(0, 6).Select(i => (long)i)));
    }

    [Test]
    public void Bad_arguments_are_rejected_naming_them()
    {
        var (images, labels) = Numbered(10);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new TensorDataLoader(images, labels, batchSize: 0))!.ParamName, Is.EqualTo("batchSize"));
        var mismatch = Assert.Throws<ArgumentException>(() => new TensorDataLoader(images, labels[..9], batchSize: 4));
        Assert.That(mismatch!.Message, Does.StartWith("inputs and targets must have one row per sample; received inputs [10, 1, 1, 1] and targets [9]."));
        var seedAlone = Assert.Throws<ArgumentException>(() => new TensorDataLoader(images, labels, batchSize: 4, seed: 3));
        Assert.That(seedAlone!.ParamName, Is.EqualTo("seed"));
        Assert.That(seedAlone.Message, Does.StartWith("seed 3 orders the samples only when shuffling; pass shuffle: true, or leave the seed out."));
    }

    /// <summary>A dataset of its own kind: sample i is i, its target i squared; counts its batch fetches.</summary>
    sealed class Squares(long count) : ITensorDataset
    {
        public int Calls { get; private set; }

        public long Count => count;

        public Device Device => CPU;

        public (Tensor Input, Tensor Target) GetItems(Tensor indices)
        {
            Calls++;
            return (indices.clone(), indices * indices);
        }
    }
}
