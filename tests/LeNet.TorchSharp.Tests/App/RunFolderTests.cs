using System.Diagnostics;
using LeNetTorchSharp.Tests.Data;
using TrainMnist;

namespace LeNetTorchSharp.Tests.App;

/// <summary>A run folder belongs to one run at a time, keeps every epoch's line whole, and a resume trains on the data it started with.</summary>
public class RunFolderTests : CliFixture
{
    string[] Training(string folder, params string[] extra) =>
        ["--data", data.Path, "--no-download", "--out", folder, "--device", "cpu", "--no-plots", "--model", "mlp", .. extra];

    [Test]
    [Platform(Include = "Linux")]
    public void A_second_run_into_a_folder_a_live_run_holds_is_refused_and_a_dead_runs_folder_is_taken_over()
    {
        var folder = run.File("r");
        Directory.CreateDirectory(folder);
        // Another process holding the folder's lock, as a run does: flock(1) takes the same kind of lock .NET does, and
        // with -o holds it itself, not in the command it starts.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-o", Path.Combine(folder, RunLock.FileName), "sleep", "600"]))!;
        var held = DateTime.UtcNow.AddSeconds(30);
        while (!File.Exists(Path.Combine(folder, RunLock.FileName)) && DateTime.UtcNow < held) Thread.Sleep(50);
        Thread.Sleep(200);

        var (exit, output, errors) = Run(Training(folder, "--epochs", "1"));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Is.EqualTo(new[] { $"error: --out {folder}: another run is writing into this folder (it holds run.lock); wait for it to end, or choose another folder." }));
        Assert.That(output, Does.Not.Contain("Data:"), "refused before any data was loaded");

        holder.Kill(entireProcessTree: true);
        holder.WaitForExit();
        var taken = Run(Training(folder, "--epochs", "1"));
        Assert.That(taken.Exit, Is.Zero, string.Join("\n", taken.Errors));
        Assert.That(Path.Combine(folder, "last.ckpt"), Does.Exist);
        Assert.That(Path.Combine(folder, RunLock.FileName), Does.Not.Exist, "the lock is gone with the run");
    }

    [Test]
    public void An_epoch_line_goes_to_the_file_whole_and_a_line_cut_by_a_kill_is_skipped_when_read()
    {
        var log = new MetricsLog(run.File("metrics.jsonl"));
        log.Append(new EpochMetrics(1, 0.5, 0.4, 0.9, 1.25, 12_345.678, 0.01));
        log.Append(new EpochMetrics(2, 0.3, 0.2, 0.95, 1.25, 12_345.678, 0.01));
        var bytes = File.ReadAllBytes(log.Path);
        Assert.That(bytes.Count(b => b == (byte)'\n'), Is.EqualTo(2));
        Assert.That(bytes[^1], Is.EqualTo((byte)'\n'), "each line ends whole");
        File.WriteAllBytes(log.Path, bytes[..^7]);
        Assert.That(log.Read().Select(m => m.Epoch), Is.EqualTo(new[] { 1 }), "the cut line is not read as an epoch");
    }

    [Test]
    public void A_resume_on_other_data_is_refused_unless_it_is_asked_for()
    {
        var folder = run.File("r");
        Assert.That(Run(Training(folder, "--epochs", "1")).Exit, Is.Zero);
        var checkpoint = Path.Combine(folder, "last.ckpt");
        using var other = new TempFolder();
        IdxFiles.WriteDataset(other.Path, trainCount: 200);
        File.WriteAllBytes(Path.Combine(other.Path, "train-images-idx3-ubyte"), IdxFiles.Images(200, (n, r, c) => (byte)(n + 2 * r + 5 * c)));
        string[] resume = ["--data", other.Path, "--no-download", "--device", "cpu", "--no-plots", "--epochs", "2", "--resume", checkpoint];

        var (exit, output, errors) = Run(resume);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Has.Length.EqualTo(1));
        Assert.That(errors[0], Does.StartWith($"error: {checkpoint}: the checkpoint was trained on other data: its training set's SHA-256 is "));
        Assert.That(errors[0], Does.EndWith("…; resume with the --data it was trained on, or pass --allow-other-data to continue on these files"));
        Assert.That(output, Does.Not.Contain("epoch  2"));

        var allowed = Run([.. resume, "--allow-other-data"]);
        Assert.That(allowed.Exit, Is.Zero, string.Join("\n", allowed.Errors));
        Assert.That(allowed.Out, Does.Contain("epoch  2/2"));
    }
}
