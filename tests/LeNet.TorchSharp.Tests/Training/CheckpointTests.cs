using System.IO.Compression;
using System.Text;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;

namespace LeNetTorchSharp.Tests.Training;

public class CheckpointTests
{
    static readonly ModelCard Card = new(ModelKind.Mlp, "MNIST", [.. MnistResources.Mnist.Classes], 0.1307, 0.3081);

    TempFolder data = null!;
    MNIST train = null!;

    [SetUp]
    public void CreateData()
    {
        data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 96);
        train = new MNIST(data.Path, transform: Normalize.MnistStatistics);
    }

    [TearDown]
    public void DeleteData()
    {
        train.Dispose();
        data.Dispose();
    }

    /// <summary>A fresh run's pieces, as a program builds them: seeded model, optimizer with momentum, a scheduler, a shuffling loader.</summary>
    (Mlp Model, Trainer Trainer, TensorDataLoader Loader) NewRun(bool perBatchSchedule, int epochs = 3, bool fused = false)
    {
        manual_seed(5);
        var model = new Mlp(hidden: [16]);
        var optimizer = fused ? new FusedSGD(model.parameters(), 0.1, momentum: 0.9, nesterov: true)
            : optim.SGD(model.parameters(), 0.1, momentum: 0.9, nesterov: true);
        var loader = new TensorDataLoader(train, batchSize: 16, shuffle: true, seed: 5);
        LRScheduler scheduler = perBatchSchedule ? OneCycleLR(optimizer, 0.1, total_steps: epochs * loader.Count) : StepLR(optimizer, 1, 0.7);
        var trainer = new Trainer(model, optimizer, scheduler) { SchedulerInterval = perBatchSchedule ? SchedulerInterval.Batch : SchedulerInterval.Epoch };
        return (model, trainer, loader);
    }

    // FusedSGD and SGD give the same bits and keep the same state: a checkpoint of one resumes into the other.
    [TestCase(true, false, false)]
    [TestCase(false, false, false)]
    [TestCase(true, true, true)]
    [TestCase(true, false, true)]
    [TestCase(false, true, false)]
    public void Two_epochs_then_a_resume_end_with_the_bits_of_a_straight_three_epoch_run(bool perBatchSchedule, bool savedFused, bool resumedFused)
    {
        using var folder = new TempFolder();
        var path = folder.File("last.ckpt");
        var (straightModel, straight, straightLoader) = NewRun(perBatchSchedule);
        using var disposeStraight = straightModel;
        using var disposeStraightTrainer = straight;
        using var disposeStraightLoader = straightLoader;
        straight.Fit(straightLoader, 3);

        var (firstModel, first, firstLoader) = NewRun(perBatchSchedule, fused: savedFused);
        using (firstModel) using (first) using (firstLoader)
        {
            first.Fit(firstLoader, 2);
            Checkpoint.Save(path, first, firstLoader, Card, new Dictionary<string, string> { ["note"] = "two epochs" });
        }
        // Something else draws from torch's generator in between, as a new process would not.
        randn(100).Dispose();

        var (resumedModel, resumed, resumedLoader) = NewRun(perBatchSchedule, fused: resumedFused);
        using (resumedModel) using (resumed) using (resumedLoader)
        {
            var info = Checkpoint.Load(path, resumed, resumedLoader);
            Assert.That((info.Epochs, info.Steps, resumed.EpochsCompleted, resumed.StepsTaken), Is.EqualTo((2, 12L, 2, 12L)));
            Assert.That(info.Run["note"], Is.EqualTo("two epochs"));
            var trained = resumed.Fit(resumedLoader, 3);
            Assert.That(trained, Has.Count.EqualTo(1));
            Assert.That(resumed.LearningRate, Is.EqualTo(straight.LearningRate), "the scheduler is where the straight run's is");
            var expected = straightModel.state_dict();
            Assert.That(expected, Has.Count.EqualTo(4));
            foreach (var (name, weight) in expected)
                Assert.That(resumedModel.state_dict()[name].equal(weight).all().item<bool>(), Is.True, name);
        }
    }

    [Test]
    public void Read_gives_the_counts_the_card_and_the_run_description_without_loading()
    {
        using var folder = new TempFolder();
        var (model, trainer, loader) = NewRun(perBatchSchedule: true);
        using (model) using (trainer) using (loader)
        {
            trainer.Fit(loader, 1);
            Checkpoint.Save(folder.File("c.ckpt"), trainer, loader, Card, new Dictionary<string, string> { ["lr"] = "0.1" });
        }
        var info = Checkpoint.Read(folder.File("c.ckpt"));
        Assert.That((info.Epochs, info.Steps), Is.EqualTo((1, 6L)));
        Assert.That(info.Card!.Model, Is.EqualTo(ModelKind.Mlp));
        Assert.That(info.Card.Classes, Is.EqualTo(Card.Classes));
        Assert.That((info.Card.Mean, info.Card.Std), Is.EqualTo((0.1307, 0.3081)));
        Assert.That(info.Run, Is.EqualTo(new Dictionary<string, string> { ["lr"] = "0.1" }));
    }

    [Test]
    public void A_checkpoint_of_another_architecture_names_the_parameter_and_shapes()
    {
        using var folder = new TempFolder();
        var path = folder.File("last.ckpt");
        var (model, trainer, loader) = NewRun(perBatchSchedule: false);
        using (model) using (trainer) using (loader) Checkpoint.Save(path, trainer, loader, Card);
        using var other = new Mlp(hidden: [256]);
        using var otherTrainer = new Trainer(other, optim.SGD(other.parameters(), 0.1));

        var error = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, otherTrainer));

        Assert.That(error!.Message, Is.EqualTo($"{path}: parameter 'fc1.weight': expected shape [256, 784] for Mlp, found [16, 784] (weights of another architecture?)"));
    }

    [Test]
    public void Loading_into_a_trainer_that_has_trained_is_refused()
    {
        using var folder = new TempFolder();
        var path = folder.File("last.ckpt");
        var (model, trainer, loader) = NewRun(perBatchSchedule: false);
        using (model) using (trainer) using (loader)
        {
            trainer.Fit(loader, 1);
            Checkpoint.Save(path, trainer, loader, Card);
            Assert.That(() => Checkpoint.Load(path, trainer, loader), Throws.InvalidOperationException.With.Message.StartsWith("load a checkpoint into a trainer that has not trained yet"));
        }
    }

    [Test]
    public void Truncated_garbage_and_other_version_checkpoints_fail_with_clear_errors()
    {
        using var folder = new TempFolder();
        var (model, trainer, loader) = NewRun(perBatchSchedule: false);
        using (model) using (trainer) using (loader) Checkpoint.Save(folder.File("last.ckpt"), trainer, loader, Card);
        var good = File.ReadAllBytes(folder.File("last.ckpt"));

        var truncated = folder.File("truncated.ckpt");
        File.WriteAllBytes(truncated, good[..(good.Length / 2)]);
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Read(truncated))!.Message,
            Does.StartWith($"{truncated}: not a checkpoint: expected a lenet-torchsharp-checkpoint zip archive"));

        var text = folder.File("notes.ckpt");
        File.WriteAllText(text, "hello");
        Assert.Throws<CheckpointException>(() => Checkpoint.Read(text));

        var future = folder.File("future.ckpt");
        File.WriteAllBytes(future, good);
        using (var zip = new ZipArchive(File.Open(future, FileMode.Open), ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("checkpoint.json")!;
            string json;
            using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("checkpoint.json").Open(), Encoding.UTF8);
            writer.Write(json.Replace("\"Version\":2", "\"Version\":3"));
        }
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Read(future))!.Message,
            Does.EndWith("expected checkpoint version 2, found version 3 (written by another version of LeNet.TorchSharp)"));
    }

    [Test]
    public void A_model_of_the_users_own_checkpoints_without_a_card_and_resumes_to_the_same_bits()
    {
        using var folder = new TempFolder();
        using var images = randn(48, 6);
        using var labels = randint(0, 3, [48]);
        (nn.Module<Tensor, Tensor>, Trainer, TensorDataLoader) Run()
        {
            manual_seed(9);
            var model = nn.Sequential(nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 3));
            var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9));
            return (model, trainer, new TensorDataLoader(images, labels, batchSize: 8, shuffle: true, seed: 2));
        }

        var (straightModel, straight, straightLoader) = Run();
        using (straightModel) using (straight) using (straightLoader)
        {
            straight.Fit(straightLoader, 2);
            var (firstModel, first, firstLoader) = Run();
            using (firstModel) using (first) using (firstLoader)
            {
                first.Fit(firstLoader, 1);
                Checkpoint.Save(folder.File("own.ckpt"), first, firstLoader);
            }
            Assert.That(Checkpoint.Read(folder.File("own.ckpt")).Card, Is.Null);

            var (resumedModel, resumed, resumedLoader) = Run();
            using (resumedModel) using (resumed) using (resumedLoader)
            {
                Checkpoint.Load(folder.File("own.ckpt"), resumed, resumedLoader);
                resumed.Fit(resumedLoader, 2);
                foreach (var ((name, expected), (_, actual)) in straightModel.named_parameters().Zip(resumedModel.named_parameters()))
                    Assert.That(actual.equal(expected).all().item<bool>(), Is.True, name);
            }
        }
    }
}
