using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Training;

public class TrainerTests
{
    /// <summary>Two well-separated Gaussian blobs in 784 dimensions, labels 0 and 1.</summary>
    static (Tensor X, Tensor Y) Separable(int n, long seed)
    {
        using var generator = new Generator((ulong)seed);
        var y = randint(0, 2, [n], generator: generator).to(ScalarType.Int64);
        var centres = y.to(ScalarType.Float32).mul(2).sub(1).unsqueeze(1); // -1 or +1
        var x = randn([n, 784], generator: generator).mul(0.5f).add(centres.expand(n, 784) * 0.2f);
        return (x, y);
    }

    static optim.Optimizer Sgd(nn.Module model, double lr, double momentum = 0) => optim.SGD(model.parameters(), lr, momentum);

    [Test]
    public void Step_zeroes_gradients_so_two_steps_on_one_batch_give_the_gradient_of_one()
    {
        manual_seed(0);
        using var model = new Mlp(hidden: [16]);
        // lr 0: the weights stay put, so the second step's gradient is directly comparable with the first.
        using var trainer = new Trainer(model, Sgd(model, lr: 0));
        var (x, y) = Separable(8, seed: 1);

        trainer.Step(x, y).Dispose();
        var first = model.parameters().Select(p => p.grad!.clone()).ToList();
        trainer.Step(x, y).Dispose();
        var second = model.parameters().Select(p => p.grad!).ToList();

        for (var i = 0; i < first.Count; i++)
        {
            Assert.That(first[i].abs().sum().item<float>(), Is.GreaterThan(0f));
            Assert.That(second[i].allclose(first[i]), Is.True, $"parameter {i}: gradient accumulated instead of being zeroed");
        }
    }

    [Test]
    public void Step_returns_the_batch_loss_and_moves_the_weights()
    {
        manual_seed(0);
        using var model = new Mlp(hidden: [16]);
        using var trainer = new Trainer(model, Sgd(model, 0.1));
        var (x, y) = Separable(32, seed: 2);
        var before = model.get_parameter("fc1.weight")!.clone();
        float expected;
        using (no_grad()) expected = nn.functional.cross_entropy(model.call(x), y).item<float>();

        using var loss = trainer.Step(x, y);

        Assert.That(loss.item<float>(), Is.EqualTo(expected).Within(1e-6));
        Assert.That(loss.requires_grad, Is.False);
        Assert.That(model.get_parameter("fc1.weight")!.allclose(before), Is.False);
        Assert.That(trainer.StepsTaken, Is.EqualTo(1));
    }

    [Test]
    public void The_periodic_collection_changes_no_result_and_can_be_turned_off()
    {
        float[] Losses(int collectGarbageEvery)
        {
            manual_seed(0);
            using var model = new Mlp(hidden: [8]);
            using var trainer = new Trainer(model, Sgd(model, 0.05)) { CollectGarbageEvery = collectGarbageEvery };
            var (x, y) = Separable(64, seed: 3);
            using var loader = new TensorDataLoader(x, y, batchSize: 4, shuffle: true, seed: 1);
            return [.. loader.Select(b => { using var loss = trainer.Step(b.Input, b.Target); return loss.item<float>(); })];
        }

        using (var model = new Mlp(hidden: [8]))
        using (var trainer = new Trainer(model, Sgd(model, 0.1)))
            Assert.That(trainer.CollectGarbageEvery, Is.EqualTo(100), "the default");
        Assert.That(Losses(collectGarbageEvery: 1), Is.EqualTo(Losses(collectGarbageEvery: 0)), "a collection after every step, or none: the same losses");
    }

    [Test]
    public void A_negative_collection_interval_is_refused_naming_the_setting()
    {
        using var model = new Mlp(hidden: [8]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Trainer(model, Sgd(model, 0.1)) { CollectGarbageEvery = -1 });
        Assert.That(error!.ParamName, Is.EqualTo("CollectGarbageEvery"));
    }

    [Test]
    public void A_disposed_trainer_refuses_work_with_ObjectDisposedException()
    {
        using var model = new Mlp(hidden: [8]);
        var trainer = new Trainer(model, Sgd(model, 0.1));
        var (x, y) = Separable(8, seed: 3);
        using var loader = new TensorDataLoader(x, y, batchSize: 4);
        trainer.Dispose();
        trainer.Dispose();
        Assert.That(() => trainer.Step(x, y), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(() => trainer.TrainEpoch(loader), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(() => trainer.Evaluate(loader), Throws.InstanceOf<ObjectDisposedException>());
        Assert.That(() => Checkpoint.Save(Path.Combine(Path.GetTempPath(), "never.ckpt"), trainer), Throws.InstanceOf<ObjectDisposedException>());
    }

    static IEnumerable<TestCaseData> Optimizers()
    {
        yield return new TestCaseData((Func<IEnumerable<Parameter>, optim.Optimizer>)(p => optim.SGD(p, 0.05, momentum: 0.9))).SetArgDisplayNames("SGD");
        yield return new TestCaseData((Func<IEnumerable<Parameter>, optim.Optimizer>)(p => optim.Adam(p, 0.001))).SetArgDisplayNames("Adam");
        yield return new TestCaseData((Func<IEnumerable<Parameter>, optim.Optimizer>)(p => optim.AdamW(p, 0.001))).SetArgDisplayNames("AdamW");
        yield return new TestCaseData((Func<IEnumerable<Parameter>, optim.Optimizer>)(p => optim.RMSProp(p, 0.001))).SetArgDisplayNames("RMSprop");
    }

    [TestCaseSource(nameof(Optimizers))]
    public void Any_TorchSharp_optimizer_drives_loss_down_and_accuracy_up_on_a_separable_set(Func<IEnumerable<Parameter>, optim.Optimizer> optimizer)
    {
        manual_seed(0);
        using var model = new Mlp(hidden: [32]);
        using var trainer = new Trainer(model, optimizer(model.parameters()));
        var (x, y) = Separable(512, seed: 3);
        var (testX, testY) = Separable(256, seed: 4);
        using var loader = new TensorDataLoader(x, y, batchSize: 32, shuffle: true, seed: 5);
        using var testLoader = new TensorDataLoader(testX, testY, batchSize: 100, shuffle: false);

        var before = trainer.Evaluate(testLoader);
        var epochs = trainer.Fit(loader, maxEpochs: 3);
        var after = trainer.Evaluate(testLoader);

        Assert.That(epochs, Has.Count.EqualTo(3));
        Assert.That(trainer.EpochsCompleted, Is.EqualTo(3));
        Assert.That(epochs[^1].Loss, Is.LessThan(epochs[0].Loss));
        Assert.That(after.Loss, Is.LessThan(before.Loss / 2));
        Assert.That(after.Accuracy, Is.GreaterThan(0.95));
        Assert.That(epochs[0].Samples, Is.EqualTo(512));
        Assert.That(trainer.StepsTaken, Is.EqualTo(3 * 16));
    }

    [Test]
    public void Step_runs_the_model_through_call_so_its_forward_hooks_run()
    {
        using var model = new Mlp(hidden: [4]);
        using var trainer = new Trainer(model, Sgd(model, 0.01));
        var seen = 0;
        model.register_forward_hook((m, input, output) => { seen++; return output; });
        var (x, y) = Separable(8, seed: 1);
        trainer.Step(x, y).Dispose();
        using var loader = new TensorDataLoader(x, y, batchSize: 4, shuffle: false);
        trainer.Evaluate(loader);
        Assert.That(seen, Is.EqualTo(3), "one step and two evaluation batches");
    }

    [Test]
    public void Fit_continues_from_the_epochs_already_completed()
    {
        manual_seed(0);
        using var model = new Mlp(hidden: [4]);
        using var trainer = new Trainer(model, Sgd(model, 0.01));
        var (x, y) = Separable(16, seed: 1);
        using var loader = new TensorDataLoader(x, y, batchSize: 8);
        var epochs = new List<int>();
        trainer.Fit(loader, 2, (epoch, _) => epochs.Add(epoch));
        trainer.Fit(loader, 3, (epoch, _) => epochs.Add(epoch));
        Assert.That(epochs, Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Evaluate_restores_the_mode_the_model_was_in()
    {
        using var model = new Mlp(hidden: [4]);
        using var trainer = new Trainer(model, Sgd(model, 0.01));
        var (x, y) = Separable(8, seed: 1);
        using var loader = new TensorDataLoader(x, y, batchSize: 4, shuffle: false);
        model.eval();
        trainer.Evaluate(loader);
        Assert.That(model.training, Is.False);
        model.train();
        trainer.Evaluate(loader);
        Assert.That(model.training, Is.True);
    }

    [Test]
    public void Seeded_runs_reproduce_the_same_losses_on_CPU()
    {
        double[] Run()
        {
            manual_seed(7);
            using var model = new LeNet();
            using var trainer = new Trainer(model, Sgd(model, 0.05, momentum: 0.9)) { LogEvery = 1 };
            using var generator = new Generator(11);
            var x = randn([96, 1, 32, 32], generator: generator);
            var y = randint(0, 10, [96], generator: generator).to(ScalarType.Int64);
            using var loader = new TensorDataLoader(x, y, batchSize: 16, shuffle: true, seed: 7);
            var losses = new List<double>();
            trainer.TrainEpoch(loader, p => losses.Add(p.Loss));
            trainer.TrainEpoch(loader, p => losses.Add(p.Loss));
            return [.. losses];
        }

        var first = Run();
        var second = Run();
        Assert.That(first, Has.Length.EqualTo(12));
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void An_epoch_scheduler_steps_once_per_epoch()
    {
        using var model = new Mlp(hidden: [4]);
        var optimizer = Sgd(model, 0.1);
        using var trainer = new Trainer(model, optimizer, optim.lr_scheduler.StepLR(optimizer, 1, 0.5));
        var (x, y) = Separable(16, seed: 1);
        using var loader = new TensorDataLoader(x, y, batchSize: 8);
        var epochs = trainer.Fit(loader, 3);
        Assert.That(epochs.Select(e => e.LearningRate), Is.EqualTo(new[] { 0.05, 0.025, 0.0125 }).Within(1e-12));
    }

    [Test]
    public void A_batch_scheduler_steps_after_every_optimizer_step()
    {
        using var model = new Mlp(hidden: [4]);
        var optimizer = Sgd(model, 0.1);
        using var trainer = new Trainer(model, optimizer, optim.lr_scheduler.StepLR(optimizer, 1, 0.5)) { SchedulerInterval = SchedulerInterval.Batch };
        var (x, y) = Separable(16, seed: 1);
        using var loader = new TensorDataLoader(x, y, batchSize: 4);
        var epoch = trainer.TrainEpoch(loader);
        Assert.That(epoch.LearningRate, Is.EqualTo(0.1 / 16).Within(1e-12), "four batches, halved after each");
    }

    [Test]
    public void A_diverging_loss_stops_training_with_a_clear_message()
    {
        manual_seed(0);
        using var model = new Mlp(hidden: [16]);
        using var trainer = new Trainer(model, Sgd(model, 1e30)) { LogEvery = 1 };
        var (x, y) = Separable(64, seed: 1);
        using var loader = new TensorDataLoader(x.mul(1e10f), y, batchSize: 16);

        var error = Assert.Throws<TrainingDivergedException>(() => trainer.TrainEpoch(loader));
        Assert.That(error!.Message, Does.StartWith("Training diverged: the mean loss became"));
        Assert.That(error.Message, Does.Contain("The learning rate is 1E+30 with SGD: try a smaller one."));
    }

    [Test]
    public void Mismatched_input_and_target_counts_are_rejected_naming_the_argument()
    {
        using var model = new Mlp();
        using var trainer = new Trainer(model, Sgd(model, 0.01));
        var error = Assert.Throws<ArgumentException>(() => trainer.Step(randn(4, 784), zeros(3, ScalarType.Int64)));
        Assert.That(error!.ParamName, Is.EqualTo("target"));
        Assert.That(error.Message, Does.StartWith("input and target must have one row per sample; received input [4, 784] and target [3]."));
    }

    [Test]
    public void Evaluate_counts_correct_predictions()
    {
        using var model = new Mlp(inputSize: 2, hidden: [], outputSize: 2);
        using (no_grad())
        {
            model.get_parameter("fc1.weight")!.copy_(eye(2));
            model.get_parameter("fc1.bias")!.zero_();
        }
        using var trainer = new Trainer(model, Sgd(model, 0.01));
        // argmax of each row is its larger coordinate: predictions 0, 1, 1, 0
        var x = tensor(new float[] { 2, 1, 0, 3, 1, 5, 4, 0 }).reshape(4, 2);
        var y = tensor(new long[] { 0, 1, 0, 0 });
        using var batches = new TensorDataLoader(x, y, batchSize: 3, shuffle: false);
        var result = trainer.Evaluate(batches);
        Assert.That(result.Correct, Is.EqualTo(3));
        Assert.That(result.Accuracy, Is.EqualTo(0.75));
        Assert.That(result.Samples, Is.EqualTo(4));
    }
}
