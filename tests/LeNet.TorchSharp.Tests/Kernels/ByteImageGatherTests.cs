using LeNetTorchSharp.Data;
using LeNetTorchSharp.Kernels;
using LeNetTorchSharp.Tests.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>MNIST's one-pass batch against libtorch's five operations: the same bits for every byte value and transform,
/// the same labels, and a clear error for an index out of range.</summary>
public class ByteImageGatherTests
{
    static IEnumerable<TestCaseData> Transforms()
    {
        yield return new TestCaseData(null, 28).SetName("no transform, 28x28");
        yield return new TestCaseData(Normalize.MnistStatistics, 32).SetName("MNIST's statistics, 32x32");
        yield return new TestCaseData(Normalize.Tutorial, 28).SetName("the tutorial's 0.5, 0.5");
        yield return new TestCaseData(new Normalize(-0.37, 1.9), 32).SetName("an odd mean and std");
    }

    // libtorch's way, written out: what GetItems did before the kernel, and does for other transforms.
    static Tensor LibTorchImages(MNIST dataset, Tensor indices)
    {
        var x = dataset.data.index_select(0, indices).to(ScalarType.Float32).div_(255);
        return dataset.transform is null ? x : dataset.transform.call(x);
    }

    [TestCaseSource(nameof(Transforms))]
    public void A_batch_has_the_bits_of_libtorchs_operations_for_every_byte_value(Normalize? transform, int imageSize)
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 40);
        using var dataset = new MNIST(temp.Path, transform: transform, imageSize: imageSize);
        using var scope = NewDisposeScope();
        Assert.That(dataset.data.unique().Item1.numel(), Is.EqualTo(256), "the images hold every byte value");
        var indices = tensor(new long[] { 39, 0, 7, 7, 21 });

        var before = ByteImageGather.Calls;
        var (images, labels) = dataset.GetItems(indices);

        Assert.That(ByteImageGather.Calls, Is.EqualTo(before + 1), "the one-pass path");
        Assert.That(images.shape, Is.EqualTo(new long[] { 5, 1, imageSize, imageSize }));
        Assert.That(images.dtype, Is.EqualTo(ScalarType.Float32));
        Assert.That(images.equal(LibTorchImages(dataset, indices)).all().item<bool>(), Is.True, "bit for bit");
        Assert.That(labels.data<long>().ToArray(), Is.EqualTo(dataset.targets.index_select(0, indices).data<long>().ToArray()));
        Assert.That(dataset.GetItems(arange(40)).Input.equal(LibTorchImages(dataset, arange(40))).all().item<bool>(), Is.True, "the whole split");
    }

    [Test]
    public void The_table_and_the_formula_give_the_same_bits()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 40);
        using var dataset = new MNIST(temp.Path, transform: Normalize.MnistStatistics);
        using var scope = NewDisposeScope();
        var values = ByteImageGather.Values(dataset.transform, x => x.to(ScalarType.Float32).div_(255))!;
        Assert.That(values.Table, Has.Length.EqualTo(256));
        Assert.That(values.Formula, Is.Not.Null, "libtorch's float32 arithmetic, reproduced");

        var indices = arange(39, -1, -1);
        var byFormula = ByteImageGather.Gather(dataset.data, dataset.targets, indices, values).Input;
        var byTable = ByteImageGather.Gather(dataset.data, dataset.targets, indices, values with { Formula = null }).Input;
        Assert.That(byTable.equal(byFormula).all().item<bool>(), Is.True);
        Assert.That(byTable.equal(LibTorchImages(dataset, indices)).all().item<bool>(), Is.True);
    }

    [Test]
    public void A_batch_larger_than_a_threads_worth_is_split_without_changing_a_bit()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 1100);
        using var dataset = new MNIST(temp.Path, transform: Normalize.Tutorial, imageSize: 32);
        using var scope = NewDisposeScope();
        var indices = randperm(1100, generator: new Generator(3));
        Assert.That(dataset.GetItems(indices).Input.equal(LibTorchImages(dataset, indices)).all().item<bool>(), Is.True);
    }

    [Test]
    public void Other_transforms_and_index_kinds_take_libtorchs_way_with_the_same_result()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 20);
        using var composed = new MNIST(temp.Path, transform: TorchSharp.torchvision.transforms.Compose(new Normalize(0, 2)));
        using var plain = new MNIST(temp.Path, transform: new Normalize(0, 2));
        using var scope = NewDisposeScope();

        var before = ByteImageGather.Calls;
        var fromCompose = composed.GetItems(tensor(new long[] { 4, 2 })).Input;
        var fromInt32 = plain.GetItems(tensor(new[] { 4, 2 })).Input;
        Assert.That(ByteImageGather.Calls, Is.EqualTo(before), "a Compose and int32 indices go to libtorch");
        Assert.That(fromCompose.equal(plain.GetItems(tensor(new long[] { 4, 2 })).Input).all().item<bool>(), Is.True);
        Assert.That(fromInt32.equal(fromCompose).all().item<bool>(), Is.True);
    }

    [TestCase(20L)]
    [TestCase(-1L)]
    public void An_index_out_of_range_is_named_with_its_position(long bad)
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 20);
        using var dataset = new MNIST(temp.Path, transform: Normalize.Tutorial);
        using var scope = NewDisposeScope();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => dataset.GetItems(tensor(new[] { 3L, bad })));
        Assert.That(error!.ParamName, Is.EqualTo("indices"));
        Assert.That(error.Message, Does.Contain($"expected sample indices in [0, 20); found {bad} at position 1"));
    }
}
