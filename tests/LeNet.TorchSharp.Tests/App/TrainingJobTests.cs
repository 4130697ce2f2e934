using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using TrainMnist;

namespace LeNetTorchSharp.Tests.App;

/// <summary>The trainer program's job: run folder, metrics, checkpoints and resume, weights; on small generated data.</summary>
public class TrainingJobTests
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

    // Step decay depends only on the epoch, so stopping after 2 of 3 planned epochs changes nothing.
    static readonly Recipe Mlp = Recipe.Fast with { Model = ModelKind.Mlp, Schedule = ScheduleKind.Step, BatchSize = 32 };

    RunOptions Options(string folder, int epochs) => new()
    {
        Epochs = epochs,
        DataRoot = data.Path,
        Download = false,
        Device = DeviceChoice.Cpu,
        RunFolder = folder,
        Plots = false,
    };

    [Test]
    public void Two_epochs_then_a_resume_for_one_more_end_with_the_weights_of_a_straight_three_epoch_run()
    {
        using var straightRun = new TempFolder();
        using var interrupted = new TempFolder();
        TrainingJob.Run(Mlp, Options(straightRun.Path, 3), TextWriter.Null);
        TrainingJob.Run(Mlp, Options(interrupted.Path, 2), TextWriter.Null);

        var output = new StringWriter();
        var checkpoint = Path.Combine(interrupted.Path, "last.ckpt");
        var resumed = TrainingJob.Run(Recipe.FromRun(Checkpoint.Read(checkpoint).Run), Options(interrupted.Path, 3) with { Resume = checkpoint }, output);

        Assert.That(output.ToString(), Does.Contain("Resumed from"));
        Assert.That(resumed.Epochs.Select(e => e.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
        using var straight = Safetensors.Load(Path.Combine(straightRun.Path, "model.safetensors"));
        using var continued = Safetensors.Load(Path.Combine(interrupted.Path, "model.safetensors"));
        Assert.That(straight.Tensors, Has.Count.EqualTo(6));
        foreach (var (name, weight) in straight.Tensors)
            Assert.That(continued[name].equal(weight).all().item<bool>(), Is.True, name);
        Assert.That(new MetricsLog(Path.Combine(interrupted.Path, "metrics.jsonl")).Read().Select(m => m.Epoch), Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Each_epoch_writes_last_and_best_checkpoints_with_the_recipe_and_no_temporary_files_remain()
    {
        using var run = new TempFolder();
        var report = TrainingJob.Run(Mlp, Options(run.Path, 2), TextWriter.Null);
        Assert.That(Directory.GetFiles(run.Path).Select(Path.GetFileName).Order(),
            Is.EqualTo(new[] { "best.ckpt", "last.ckpt", "metrics.jsonl", "model.safetensors" }));
        var info = Checkpoint.Read(Path.Combine(run.Path, "last.ckpt"));
        Assert.That(info.Epochs, Is.EqualTo(2));
        Assert.That(info.Card, Is.EqualTo(Mlp.Card(MnistResources.Mnist.Classes)).Using<ModelCard>((a, b) => a.Model == b.Model && a.Classes.SequenceEqual(b.Classes) && a.Mean == b.Mean && a.Std == b.Std));
        Assert.That(Recipe.FromRun(info.Run), Is.EqualTo(Mlp));
        Assert.That(double.Parse(info.Run["best-accuracy"], System.Globalization.CultureInfo.InvariantCulture), Is.EqualTo(report.Epochs.Max(e => e.TestAccuracy)));
    }

    [Test]
    public void Resuming_with_no_more_epochs_to_train_says_so()
    {
        using var run = new TempFolder();
        TrainingJob.Run(Mlp, Options(run.Path, 2), TextWriter.Null);
        var error = Assert.Throws<CheckpointException>(() =>
            TrainingJob.Run(Mlp, Options(run.Path, 2) with { Resume = Path.Combine(run.Path, "last.ckpt") }, TextWriter.Null));
        Assert.That(error!.Message, Does.EndWith("the checkpoint has already trained 2 epochs; pass --epochs greater than 2 to continue (its figures can be drawn again with the figures command)"));
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

    [Test]
    public void A_run_description_of_version_1_reads_as_a_run_without_a_weight_average()
    {
        var v1 = new Dictionary<string, string>(Recipe.Fast.ToRun()) { ["recipe-version"] = "1" };
        v1.Remove("ema");
        Assert.That(Recipe.FromRun(v1), Is.EqualTo(Recipe.Fast with { AverageDecay = 0 }));
        Assert.That(Recipe.FromRun(Recipe.Fast.ToRun()).AverageDecay, Is.EqualTo(0.99));
        var v2 = new Dictionary<string, string>(Recipe.Fast.ToRun());
        v2.Remove("ema");
        Assert.That(() => Recipe.FromRun(v2), Throws.TypeOf<FormatException>().With.Message.StartsWith("the run description has no 'ema'"));
    }

    [TestCase(OptimizerKind.Sgd)]
    [TestCase(OptimizerKind.RMSprop)]
    public void The_one_cycle_schedule_moves_the_momentum_from_095_to_085_and_back_whatever_the_recipe_says(OptimizerKind kind)
    {
        // What CyclesMomentum and the run's description claim, checked against TorchSharp's OneCycleLR itself.
        var recipe = Recipe.Fast with { Optimizer = kind, Momentum = 0.5, Nesterov = kind == OptimizerKind.Sgd };
        Assert.That(recipe.CyclesMomentum, Is.True);
        using var model = new Mlp();
        var optimizer = recipe.CreateOptimizer(model.parameters());
        var scheduler = recipe.CreateScheduler(optimizer, epochs: 1, batchesPerEpoch: 100)!;
        double Momentum() => ((TorchSharp.torch.optim.IMomentum)optimizer.ParamGroups.Single()).Momentum;
        var seen = new List<double> { Momentum() };
        for (var step = 0; step < 99; step++)
        {
            optimizer.step();
            scheduler.step();
            seen.Add(Momentum());
        }
        Assert.That(seen[0], Is.EqualTo(0.95).Within(1e-9), "starts high while the learning rate is low");
        Assert.That(seen.Min(), Is.EqualTo(0.85).Within(1e-3), "lowest at the learning rate's peak");
        Assert.That(seen[^1], Is.EqualTo(0.95).Within(1e-3), "back up as the learning rate anneals");
        Assert.That(seen, Has.None.EqualTo(0.5), "the recipe's own momentum is never used");
        Assert.That((Recipe.Fast with { Schedule = ScheduleKind.Step }).CyclesMomentum, Is.False);
    }

    [Test]
    public void The_recipe_round_trips_through_a_run_description_and_a_damaged_one_names_the_entry()
    {
        var recipe = Recipe.Tutorial with { Model = ModelKind.Mlp, Dataset = DatasetKind.FashionMnist, WeightDecay = 1e-4, Seed = 42 };
        Assert.That(Recipe.FromRun(recipe.ToRun()), Is.EqualTo(recipe));
        var damaged = new Dictionary<string, string>(recipe.ToRun()) { ["lr"] = "fast" };
        Assert.That(() => Recipe.FromRun(damaged), Throws.TypeOf<FormatException>().With.Message.EqualTo("the run description's 'lr' is 'fast', which is not valid"));
        damaged.Remove("lr");
        Assert.That(() => Recipe.FromRun(damaged), Throws.TypeOf<FormatException>().With.Message.StartsWith("the run description has no 'lr'"));
    }
}

/// <summary>End-to-end runs of the trainer's job on real MNIST (data/mnist).</summary>
[Category("Integration")]
public class RealMnistTrainingTests
{
    static RunOptions Options(string root, string folder) => new() { Epochs = 1, DataRoot = root, Download = false, Device = DeviceChoice.Cpu, RunFolder = folder };

    [Test]
    public void Real_MNIST_has_60000_training_and_10000_test_images_with_every_digit()
    {
        var root = RepoPaths.RequireMnist();
        using var train = new MNIST(root, train: true);
        using var test = new MNIST(root, train: false, transform: Normalize.Tutorial, imageSize: 32);
        var (images, labels) = test.GetItems(TorchSharp.torch.arange(test.Count));
        Assert.That(train.Count, Is.EqualTo(60_000));
        Assert.That(images.shape, Is.EqualTo(new long[] { 10_000, 1, 32, 32 }));
        Assert.That(labels.data<long>().ToArray(), Is.EqualTo(test.targets.data<long>().ToArray()));
        Assert.That(train.targets.bincount(null).data<long>().ToArray(), Has.All.GreaterThan(5000));
        Assert.That(images.min().item<float>(), Is.EqualTo(-1f));
        Assert.That(images.max().item<float>(), Is.EqualTo(1f));
    }

    [Test]
    public void One_epoch_of_the_default_LeNet_recipe_passes_98_percent()
    {
        var root = RepoPaths.RequireMnist();
        var output = new StringWriter();
        using var run = new TempFolder();
        var report = TrainingJob.Run(Recipe.Fast, Options(root, run.Path), output);

        Assert.That(report.Final.Samples, Is.EqualTo(10_000));
        Assert.That(report.Final.Accuracy, Is.GreaterThanOrEqualTo(0.98), output.ToString());
        Assert.That(output.ToString(), Does.Contain("epoch  1/1  train loss"));
    }

    [Test]
    public void One_epoch_of_the_MLP_passes_95_percent()
    {
        var root = RepoPaths.RequireMnist();
        var output = new StringWriter();
        using var run = new TempFolder();
        var report = TrainingJob.Run(Recipe.Fast with { Model = ModelKind.Mlp }, Options(root, run.Path) with { Plots = false }, output);
        Assert.That(report.Final.Accuracy, Is.GreaterThanOrEqualTo(0.95), output.ToString());
    }

    [Test]
    public void Dry_run_trains_one_batch_and_saves_nothing()
    {
        var root = RepoPaths.RequireMnist();
        using var temp = new TempFolder();
        var output = new StringWriter();
        var report = TrainingJob.Run(Recipe.Fast, new RunOptions { DryRun = true, DataRoot = root, SavePath = temp.File("model.bin") }, output);
        Assert.That(report.Epochs, Is.Empty);
        Assert.That(output.ToString(), Does.Contain("dry run: one batch of 128, loss "));
        Assert.That(Directory.GetFiles(temp.Path), Is.Empty);
    }

    [Test]
    public void Saved_weights_load_into_a_fresh_model_with_the_same_accuracy()
    {
        var root = RepoPaths.RequireMnist();
        using var temp = new TempFolder();
        var path = temp.File("mlp.safetensors");
        var report = TrainingJob.Run(Recipe.Fast with { Model = ModelKind.Mlp }, Options(root, temp.File("run")) with { SavePath = path, Plots = false }, TextWriter.Null);

        using var model = new Mlp();
        Safetensors.LoadModel(model, path);
        using var test = new MNIST(root, train: false, transform: Normalize.MnistStatistics);
        using var loader = new TensorDataLoader(test, 256, shuffle: false);
        using var trainer = new Trainer(model, TorchSharp.torch.optim.SGD(model.parameters(), 0.01));
        Assert.That(trainer.Evaluate(loader).Correct, Is.EqualTo(report.Final.Correct));
        Assert.That(Directory.GetFiles(temp.Path), Is.EqualTo(new[] { path }), "no temporary file is left beside the saved one");
        Assert.That(Directory.GetFiles(temp.File("run")).Where(f => f.EndsWith(".tmp")), Is.Empty);
    }
}
