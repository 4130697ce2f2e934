using LeNetTorchSharp.Plots;
using LeNetTorchSharp.Tests.Data;

namespace LeNetTorchSharp.Tests.App;

/// <summary>
/// Files the user may not read and folders they may not write, run through the program as a user without those
/// rights (under root, which reads everything, the program runs as nobody).
/// </summary>
[Platform(Exclude = "Win")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public class PermissionTests
{
    TempFolder folder = null!;

    [SetUp]
    public void Create()
    {
        folder = new TempFolder();
        // Traversable by the unprivileged user the program runs as.
        File.SetUnixFileMode(folder.Path, (UnixFileMode)0b111_101_101);
    }

    [TearDown]
    public void Delete()
    {
        foreach (var path in Directory.GetFileSystemEntries(folder.Path, "*", SearchOption.AllDirectories).Prepend(folder.Path))
            File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);
        folder.Dispose();
    }

    string MakeFolder(string name, bool writable)
    {
        var path = folder.File(name);
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, writable ? (UnixFileMode)0b111_111_111 : (UnixFileMode)0b101_101_101);
        return path;
    }

    static void Unreadable(string file) => File.SetUnixFileMode(file, UnixFileMode.None);

    (int Exit, string Out, string[] Errors) RunAsUser(params string[] args)
    {
        var home = MakeFolder("home-" + Guid.NewGuid().ToString("N"), writable: true);
        return ProgramProcess.Run(args, new Dictionary<string, string> { ["HOME"] = home, ["XDG_CACHE_HOME"] = home, ["DOTNET_CLI_HOME"] = home }, asUnprivilegedUser: true);
    }

    /// <summary>A small dataset, written first and then closed to writing (root would write it anyway; a user would not).</summary>
    string Data()
    {
        var data = MakeFolder("data", writable: true);
        IdxFiles.WriteDataset(data, trainCount: 200);
        foreach (var file in Directory.GetFiles(data)) File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        File.SetUnixFileMode(data, (UnixFileMode)0b101_101_101);
        return data;
    }

    /// <summary>A run made here (as this user), its folder readable by the unprivileged one.</summary>
    string Trained(string data)
    {
        var runFolder = MakeFolder("trained", writable: true);
        var exit = TrainMnist.Cli.Run(["--data", data, "--no-download", "--out", runFolder, "--epochs", "1", "--device", "cpu", "--no-plots", "--model", "mlp"],
            TextWriter.Null, TextWriter.Null, interactive: false);
        Assert.That(exit, Is.Zero);
        foreach (var file in Directory.GetFiles(runFolder)) File.SetUnixFileMode(file, (UnixFileMode)0b110_100_100);
        return runFolder;
    }

    static void AssertOneLine((int Exit, string Out, string[] Errors) result, string expected)
    {
        Assert.That(result.Exit, Is.EqualTo(1), string.Join("\n", result.Errors));
        Assert.That(result.Errors, Is.EqualTo(new[] { "error: " + expected }));
        Assert.That(result.Out, Does.Not.Contain("epoch "), "refused before any training");
    }

    [Test]
    public void An_out_folder_that_cannot_be_written_is_refused_before_training()
    {
        var data = Data();
        var locked = MakeFolder("locked", writable: false);
        AssertOneLine(RunAsUser("--data", data, "--no-download", "--out", locked, "--epochs", "1", "--device", "cpu", "--model", "mlp"),
            $"--out {locked}: cannot write there: permission denied");
    }

    [Test]
    public void An_unreadable_IDX_file_is_named()
    {
        var data = Data();
        var images = Path.Combine(data, "train-images-idx3-ubyte");
        Unreadable(images);
        AssertOneLine(RunAsUser("--data", data, "--no-download", "--out", MakeFolder("out", writable: true), "--epochs", "1", "--device", "cpu", "--model", "mlp"),
            $"{images}: cannot be read: permission denied");
    }

    [Test]
    public void Unreadable_weights_and_checkpoints_are_named_and_a_figure_into_a_locked_folder_is_refused_first()
    {
        var data = Data();
        var trained = Trained(data);
        var image = folder.File("digit.png");
        using (var digit = TorchSharp.torch.rand(28, 28)) ImagePng.Save(digit, image);
        File.SetUnixFileMode(image, (UnixFileMode)0b110_100_100);
        var weights = Path.Combine(trained, "model.safetensors");
        var checkpoint = Path.Combine(trained, "last.ckpt");

        var locked = MakeFolder("locked", writable: false);
        AssertOneLine(RunAsUser("predict", "--model", weights, "--image", image, "--figure", Path.Combine(locked, "f.png")),
            $"--figure {locked}: cannot write there: permission denied");

        Unreadable(weights);
        AssertOneLine(RunAsUser("predict", "--model", weights, "--image", image), $"{weights}: cannot be read: permission denied");

        Unreadable(checkpoint);
        AssertOneLine(RunAsUser("--data", data, "--no-download", "--epochs", "2", "--device", "cpu", "--resume", checkpoint),
            $"{checkpoint}: cannot be read: permission denied");
    }
}
