using System.Diagnostics;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;

namespace LeNetTorchSharp.Tests.Hardening;

/// <summary>A training run killed with SIGKILL at random moments, checkpoint writes included, always resumes.</summary>
[Category("Crash")]
public class CrashSafetyTests
{
    /// <summary>What the run printed, kept so that a run that ends on its own can say why.</summary>
    static readonly System.Collections.Concurrent.ConcurrentQueue<string> Printed = new();

    static string LastLines(Process process) =>
        $"exit code {process.ExitCode}; its last lines: {string.Join(" | ", Printed.TakeLast(12))}";

    static Process Start(string args)
    {
        Printed.Clear();
        var dll = Path.Combine(AppContext.BaseDirectory, "TrainMnist.dll");
        var start = new ProcessStartInfo("dotnet", $"\"{dll}\" {args}")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) Printed.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Printed.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Test]
    public void Killed_runs_resume_from_their_last_complete_checkpoint_and_leave_no_temporary_files()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
        using var run = new TempFolder();
        var checkpoint = Path.Combine(run.Path, "last.ckpt");
        // Epochs of 200 images take milliseconds, so checkpoints are written many times a second and the
        // kills land inside writes as often as between them.
        var common = $"--model mlp --data \"{data.Path}\" --no-download --out \"{run.Path}\" --device cpu --no-plots --quiet --batch-size 16 --schedule constant";
        var random = new Random(7);
        const int kills = 6;
        var epochsSeen = new List<int>();

        for (var kill = 0; kill < kills; kill++)
        {
            // Without a checkpoint yet, the folder may hold what a killed first run left: start over there.
            var resume = File.Exists(checkpoint) ? $"--resume \"{checkpoint}\" " : "--force ";
            using var process = Start($"{resume}--epochs 10000 {common}");
            Thread.Sleep(random.Next(2500, 5000));
            if (process.HasExited)
            {
                process.WaitForExit();
                Assert.Fail($"run {kill + 1} ({resume.Trim()}) ended before it was killed: {LastLines(process)}");
            }
            process.Kill(entireProcessTree: true);
            process.WaitForExit();

            if (!File.Exists(checkpoint)) continue;
            var state = Checkpoint.Read(checkpoint); // the last complete checkpoint always reads
            epochsSeen.Add(state.Epochs);
        }

        Assert.That(epochsSeen, Is.Not.Empty, "no checkpoint was written before the kills");
        Assert.That(epochsSeen, Is.Ordered, "each resume continued from where the previous run stopped");
        var done = Checkpoint.Read(checkpoint).Epochs;
        using (var finish = Start($"--resume \"{checkpoint}\" --epochs {done + 2} {common}"))
        {
            Assert.That(finish.WaitForExit(120_000), Is.True, "the resumed run did not finish");
            finish.WaitForExit();
            Assert.That(finish.ExitCode, Is.Zero, () => LastLines(finish));
        }
        Assert.That(Checkpoint.Read(checkpoint).Epochs, Is.EqualTo(done + 2));
        Assert.That(Directory.GetFiles(run.Path, "*.tmp"), Is.Empty, "temporary files of killed writes were cleaned up");
        TestContext.Out.WriteLine($"{kills} kills survived; checkpoints at epochs {string.Join(", ", epochsSeen)}; finished at {done + 2}");
    }

    [Test]
    public void A_partial_download_left_by_a_kill_is_not_taken_for_a_file_and_is_cleaned_up()
    {
        using var root = new TempFolder();
        // What a download killed mid-file leaves: a hidden .part named with a process that no longer runs.
        var abandoned = root.File(".train-images-idx3-ubyte.gz.999999.0123456789abcdef.part");
        File.WriteAllBytes(abandoned, [1, 2, 3]);

        Assert.Throws<FileNotFoundException>(() => new LeNetTorchSharp.Data.MNIST(root.Path, download: false));
        Assert.Throws<LeNetTorchSharp.Data.DatasetException>(() =>
            new LeNetTorchSharp.Data.MnistDownloader().DownloadMissingAsync(root.Path, LeNetTorchSharp.Data.MnistResources.Mnist, ["http://127.0.0.1:9/"]).GetAwaiter().GetResult());
        Assert.That(abandoned, Does.Not.Exist);
    }
}
