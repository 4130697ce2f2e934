using System.IO.Compression;
using System.Text;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Training;

public class CheckpointTests
{
    TempFolder data = null!;

    [SetUp]
    public void CreateData()
    {
        data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 300);
    }

    [TearDown]
    public void DeleteData() => data.Dispose();

    MnistTrainingOptions Options(string folder, int epochs) => new()
    {
        Model = ModelKind.Mlp,
        Epochs = epochs,
        DataRoot = data.Path,
        Download = false,
        Device = LeNetTorchSharp.DeviceChoice.Cpu,
        RunFolder = folder,
        Plots = false,
        // Step decay depends only on the epoch, so stopping after 2 of 3 planned epochs changes nothing.
        Schedule = new LrSchedule(ScheduleKind.Step, StepSize: 1, Gamma: 0.7),
        BatchSize = 32,
    };

    [Test]
    public void Two_epochs_then_a_resume_for_one_more_end_with_the_weights_of_a_straight_three_epoch_run()
    {
        using var straightRun = new TempFolder();
        using var interrupted = new TempFolder();
        MnistTraining.Run(Options(straightRun.Path, 3), TextWriter.Null);
        MnistTraining.Run(Options(interrupted.Path, 2), TextWriter.Null);

        var output = new StringWriter();
        var resumed = MnistTraining.Run(Options(interrupted.Path, 3) with { Resume = Path.Combine(interrupted.Path, "last.ckpt") }, output);

        Assert.That(output.ToString(), Does.Contain("Resumed from"));
        Assert.That(resumed.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
        using var straight = Safetensors.Load(Path.Combine(straightRun.Path, "model.safetensors"));
        using var continued = Safetensors.Load(Path.Combine(interrupted.Path, "model.safetensors"));
        foreach (var (name, weight) in straight.Tensors)
            Assert.That((continued[name] - weight).abs().max().item<float>(), Is.LessThan(1e-5f), name);
        Assert.That(new MetricsLog(Path.Combine(interrupted.Path, "metrics.jsonl")).Read().Select(m => m.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Each_epoch_writes_last_and_best_checkpoints_and_no_temporary_files_remain()
    {
        using var run = new TempFolder();
        var report = MnistTraining.Run(Options(run.Path, 2), TextWriter.Null);
        Assert.That(Directory.GetFiles(run.Path).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "best.ckpt", "last.ckpt", "metrics.jsonl", "model.safetensors" }));
        var state = Checkpoint.ReadState(Path.Combine(run.Path, "last.ckpt"));
        Assert.That(state.Epoch, Is.EqualTo(2));
        Assert.That(state.Model, Is.EqualTo("Mlp"));
        Assert.That(state.BestAccuracy, Is.EqualTo(report.Epochs.Max(e => e.TestAccuracy)));
    }

    [Test]
    public void A_checkpoint_of_another_architecture_names_the_parameter_and_shapes()
    {
        using var run = new TempFolder();
        MnistTraining.Run(Options(run.Path, 1), TextWriter.Null);
        using var other = new Mlp(hidden: [256]);
        using var trainer = new Trainer(other);
        using var train = new LeNetTorchSharp.Data.MNIST(data.Path);
        using var loader = new LeNetTorchSharp.Data.TensorDataLoader(train);
        var path = Path.Combine(run.Path, "last.ckpt");

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, trainer, loader));

        Assert.That(error!.Message, Does.StartWith($"{path}: parameter 'fc1.weight': the file has shape [128, 784], Mlp has [256, 784]"));
    }

    [Test]
    public void Truncated_garbage_and_other_version_checkpoints_fail_with_clear_errors()
    {
        using var run = new TempFolder();
        MnistTraining.Run(Options(run.Path, 1), TextWriter.Null);
        var good = File.ReadAllBytes(Path.Combine(run.Path, "last.ckpt"));

        var truncated = Path.Combine(run.Path, "truncated.ckpt");
        File.WriteAllBytes(truncated, good[..(good.Length / 2)]);
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(truncated))!.Message,
            Does.StartWith($"{truncated}: not a checkpoint: expected a lenet-torchsharp-checkpoint zip archive"));

        var text = Path.Combine(run.Path, "notes.ckpt");
        File.WriteAllText(text, "hello");
        Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(text));

        var future = Path.Combine(run.Path, "future.ckpt");
        File.WriteAllBytes(future, good);
        using (var zip = new ZipArchive(File.Open(future, FileMode.Open), ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("checkpoint.json")!;
            string json;
            using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("checkpoint.json").Open(), Encoding.UTF8);
            writer.Write(json.Replace("\"Version\":1", "\"Version\":2"));
        }
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(future))!.Message,
            Does.EndWith("expected checkpoint version 1, found version 2 (written by another version of LeNet.TorchSharp)"));
    }

    [Test]
    public void Resuming_with_no_more_epochs_to_train_says_so()
    {
        using var run = new TempFolder();
        MnistTraining.Run(Options(run.Path, 2), TextWriter.Null);
        var error = Assert.Throws<CheckpointException>(() =>
            MnistTraining.Run(Options(run.Path, 2) with { Resume = Path.Combine(run.Path, "last.ckpt") }, TextWriter.Null));
        Assert.That(error!.Message, Does.EndWith("the checkpoint has already trained 2 epochs; pass --epochs greater than 2 to continue"));
    }

    [Test]
    public void A_metrics_line_cut_short_by_a_kill_is_skipped()
    {
        using var run = new TempFolder();
        var log = new MetricsLog(run.File("metrics.jsonl"));
        log.Append(new EpochMetrics(1, 0.5, 0.4, 0.9, 3, 20000, 0.01));
        File.AppendAllText(log.Path, "{\"epoch\":2,\"train_lo");
        Assert.That(log.Read().Select(m => m.Epoch), Is.EqualTo(new[] { 1 }));
    }
}
