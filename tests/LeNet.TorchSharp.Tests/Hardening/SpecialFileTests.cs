using System.Diagnostics;
using System.Net.Sockets;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;

namespace LeNetTorchSharp.Tests.Hardening;

/// <summary>
/// Paths that are not regular files, or claim more than anyone should read: every reader refuses them before opening,
/// so a FIFO does not block, a device does not stream forever, and a sparse file is not read through.
/// </summary>
[Platform(Include = "Linux")]
public class SpecialFileTests
{
    TempFolder folder = null!;
    readonly List<Socket> sockets = [];

    [SetUp]
    public void Create() => folder = new TempFolder();

    [TearDown]
    public void Delete()
    {
        // A bound socket's file lives as long as the socket: .NET removes it when the socket is closed.
        foreach (var socket in sockets) socket.Dispose();
        sockets.Clear();
        folder.Dispose();
    }

    /// <summary>A special file of <paramref name="kind"/> at <paramref name="name"/> in the test's folder (a device by a symbolic link to /dev/zero).</summary>
    string Special(string kind, string name)
    {
        var path = folder.File(name);
        switch (kind)
        {
            case "fifo":
                using (var mkfifo = Process.Start("mkfifo", [path]))
                {
                    mkfifo.WaitForExit();
                    Assert.That(mkfifo.ExitCode, Is.Zero);
                }
                break;
            case "device":
                File.CreateSymbolicLink(path, "/dev/zero");
                break;
            case "socket":
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                sockets.Add(socket);
                socket.Bind(new UnixDomainSocketEndPoint(path));
                break;
        }
        return path;
    }

    /// <summary>A sparse file of <paramref name="bytes"/>: it takes no disk, but reading it through would take minutes.</summary>
    string Sparse(string name, long bytes)
    {
        var path = folder.File(name);
        using (var file = File.Create(path)) file.SetLength(bytes);
        return path;
    }

    /// <summary>The message of <typeparamref name="TException"/> from <paramref name="read"/>, run on a worker so that a
    /// reader that blocks fails this test instead of hanging the run.</summary>
    static string Refusal<TException>(Func<object> read) where TException : Exception
    {
        var task = Task.Run(() => Assert.Throws<TException>(() => read())!.Message);
        Assert.That(task.Wait(TimeSpan.FromSeconds(60)), Is.True, "the reader blocked instead of refusing the path");
        return task.Result;
    }

    [TestCase("fifo", "a FIFO (named pipe)")]
    [TestCase("device", "a character device")]
    [TestCase("socket", "a socket")]
    public void Every_reader_refuses_it_before_opening_naming_what_it_is(string kind, string words)
    {
        string Expected(string path) => $"{path}: is {words}, not a regular file; expected a file";
        var image = Special(kind, "digit.png");
        Assert.That(Refusal<ImageInputException>(() => DigitImage.Load(image)), Is.EqualTo(Expected(image)));
        var pt = Special(kind, "net.pt");
        Assert.That(Refusal<WeightsException>(() => { Weights.Load(new LeNet(), pt); return 0; }), Is.EqualTo(Expected(pt)));
        var safetensors = Special(kind, "net.safetensors");
        Assert.That(Refusal<WeightsException>(() => Predictor.Load(safetensors)), Is.EqualTo(Expected(safetensors)));
        var checkpoint = Special(kind, "last.ckpt");
        Assert.That(Refusal<CheckpointException>(() => Checkpoint.Read(checkpoint)), Is.EqualTo(Expected(checkpoint)));

        var data = folder.File("data");
        IdxFiles.WriteDataset(data);
        File.Delete(Path.Combine(data, "t10k-images-idx3-ubyte"));
        var images = Special(kind, "data/t10k-images-idx3-ubyte");
        Assert.That(Refusal<DatasetException>(() => new MNIST(data, train: false)), Is.EqualTo(Expected(images)));
    }

    [Test]
    public void A_file_larger_than_its_reader_takes_is_refused_by_its_size_before_it_is_read()
    {
        var size = 2_200_000_000L;
        var image = Sparse("photo.jpg", size);
        Assert.That(Refusal<ImageInputException>(() => DigitImage.Load(image)), Is.EqualTo($"{image}: is 2.05 GiB; expected at most 64 MiB"));
        var pt = Sparse("net.pt", size);
        Assert.That(Refusal<WeightsException>(() => { Weights.Load(new LeNet(), pt); return 0; }), Is.EqualTo($"{pt}: is 2.05 GiB; expected at most 1 GiB"));
        var checkpoint = Sparse("last.ckpt", size);
        Assert.That(Refusal<CheckpointException>(() => Checkpoint.Read(checkpoint)), Is.EqualTo($"{checkpoint}: is 2.05 GiB; expected at most 2 GiB"));
    }
}
