using LeNetTorchSharp.Models;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Training;

public class ExponentialMovingAverageTests
{
    static Dictionary<string, Tensor> Copy(nn.Module model) => model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    static bool Same(Dictionary<string, Tensor> expected, nn.Module model) =>
        model.named_parameters().All(p => p.parameter.equal(expected[p.name]).all().item<bool>());

    static void Step(Trainer trainer, int seed)
    {
        manual_seed(seed);
        using var images = randn(8, 1, 28, 28);
        using var labels = randint(0, 10, [8]);
        trainer.Step(images, labels).Dispose();
    }

    [Test]
    public void The_first_update_copies_the_weights_and_each_later_one_moves_the_average_by_one_minus_decay()
    {
        manual_seed(1);
        using var model = new Mlp(hidden: [16]);
        using var average = new ExponentialMovingAverage(model, decay: 0.9);
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.5)) { Average = average };

        Step(trainer, 1);
        Assert.That(average.Updates, Is.EqualTo(1));
        var first = Copy(model);
        using (average.Applied()) Assert.That(Same(first, model), Is.True, "the first update is a copy");

        Step(trainer, 2);
        var second = Copy(model);
        Assert.That(average.Updates, Is.EqualTo(trainer.StepsTaken), "the trainer updates the average after every step");
        using (average.Applied())
            foreach (var (name, parameter) in model.named_parameters())
            {
                using var expected = first[name] * 0.9 + second[name] * 0.1;
                Assert.That(parameter.allclose(expected, rtol: 1e-6, atol: 1e-7), Is.True, name);
                Assert.That(parameter.equal(second[name]).all().item<bool>(), Is.False, $"{name} is the average, not the trained weight");
            }
    }

    [Test]
    public void Applied_puts_the_trained_weights_back_bit_for_bit_and_guards_its_misuse()
    {
        manual_seed(1);
        using var model = new Mlp(hidden: [16]);
        using var average = new ExponentialMovingAverage(model, decay: 0.99);
        Assert.That(() => average.Applied(), Throws.InvalidOperationException.With.Message.StartsWith("nothing has been averaged yet"));
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.5)) { Average = average };
        Step(trainer, 1);
        Step(trainer, 2);
        var trained = Copy(model);
        using (average.Applied())
        {
            Assert.That(average.IsApplied, Is.True);
            Assert.That(Same(trained, model), Is.False);
            Assert.That(() => average.Applied(), Throws.InvalidOperationException);
            Assert.That(() => average.Update(), Throws.InvalidOperationException.With.Message.Contains("applied"));
            Assert.That(() => trainer.Step(randn(8, 1, 28, 28), randint(0, 10, [8])), Throws.InvalidOperationException.With.Message.StartsWith("the trainer's average is applied"),
                "no training on the averaged weights");
            Assert.That(trainer.StepsTaken, Is.EqualTo(2), "refused before anything of the step ran");
            using var folder = new TempFolder();
            Assert.That(() => Checkpoint.Save(folder.File("x.ckpt"), trainer), Throws.InvalidOperationException, "a checkpoint holds the trained weights");
        }
        Assert.That(average.IsApplied, Is.False);
        Assert.That(Same(trained, model), Is.True);
    }

    [Test]
    public void A_model_converted_after_the_average_was_made_is_refused_naming_the_parameter()
    {
        // Module.to(…) replaces TorchSharp's parameter objects: an average of the old ones would stop following training.
        using var model = new Mlp(hidden: [16]);
        using var average = new ExponentialMovingAverage(model, decay: 0.9);
        average.Update();
        model.to(ScalarType.Float64);
        Assert.That(() => average.Update(), Throws.InvalidOperationException.With.Message.EqualTo(
            "the model's parameter 'fc1.weight' is Float64 [16, 784] on cpu; the average was made for 'fc1.weight', Float32 [16, 784] on cpu: " +
            "create the average after moving or converting the model."));
        Assert.That(() => average.Applied(), Throws.InvalidOperationException);
    }

    [TestCase(1.0)]
    [TestCase(-0.1)]
    [TestCase(double.NaN)]
    public void A_decay_outside_zero_to_one_is_refused(double decay)
    {
        using var model = new Mlp(hidden: [16]);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialMovingAverage(model, decay))!;
        Assert.That(error.ParamName, Is.EqualTo("decay"));
        Assert.That(error.Message, Does.StartWith("expected a decay in [0, 1)"));
    }

    (Mlp Model, ExponentialMovingAverage? Average, Trainer Trainer) NewRun(double? decay)
    {
        manual_seed(3);
        var model = new Mlp(hidden: [16]);
        var average = decay is { } d ? new ExponentialMovingAverage(model, d) : null;
        return (model, average, new Trainer(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9)) { Average = average });
    }

    [Test]
    public void A_checkpoint_carries_the_average_so_a_resume_continues_it_exactly_and_predictions_read_it()
    {
        using var folder = new TempFolder();
        var path = folder.File("last.ckpt");
        var (straightModel, straightAverage, straight) = NewRun(0.9);
        using (straightModel) using (straightAverage) using (straight)
        {
            for (var i = 0; i < 5; i++) Step(straight, i);
            var (firstModel, firstAverage, first) = NewRun(0.9);
            using (firstModel) using (firstAverage) using (first)
            {
                for (var i = 0; i < 3; i++) Step(first, i);
                Checkpoint.Save(path, first);
            }
            var (model, average, resumed) = NewRun(0.9);
            using (model) using (average) using (resumed)
            {
                Checkpoint.Load(path, resumed);
                Assert.That(average!.Updates, Is.EqualTo(3));
                for (var i = 3; i < 5; i++) Step(resumed, i);
                Assert.That(Same(Copy(straightModel), model), Is.True, "the trained weights");
                Dictionary<string, Tensor> averaged;
                using (straightAverage!.Applied()) averaged = Copy(straightModel);
                using (average.Applied()) Assert.That(Same(averaged, model), Is.True, "the average");

                Checkpoint.Save(path, resumed);
                using var reader = new Mlp(hidden: [16]);
                Checkpoint.LoadWeights(path, reader);
                Assert.That(Same(averaged, reader), Is.True, "predictions read the averaged weights, which were evaluated");
            }
        }
    }

    [Test]
    public void A_checkpoint_and_a_trainer_that_differ_in_averaging_are_refused_naming_it()
    {
        using var folder = new TempFolder();
        var (model, average, trainer) = NewRun(0.9);
        using (model) using (average) using (trainer)
        {
            Step(trainer, 1);
            Checkpoint.Save(folder.File("averaged.ckpt"), trainer);
        }
        var (plainModel, _, plain) = NewRun(null);
        using (plainModel) using (plain)
        {
            Step(plain, 1);
            Checkpoint.Save(folder.File("plain.ckpt"), plain);
        }

        var (m1, a1, withAverage) = NewRun(0.9);
        using (m1) using (a1) using (withAverage)
            Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(folder.File("plain.ckpt"), withAverage))!.Message,
                Does.Contain("average decay absent in the checkpoint, 0.9 here"));
        var (m2, _, withoutAverage) = NewRun(null);
        using (m2) using (withoutAverage)
            Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(folder.File("averaged.ckpt"), withoutAverage))!.Message,
                Does.Contain("average decay 0.9 in the checkpoint, absent here"));
        var (m3, a3, otherDecay) = NewRun(0.5);
        using (m3) using (a3) using (otherDecay)
            Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(folder.File("averaged.ckpt"), otherDecay))!.Message,
                Does.Contain("average decay 0.9 in the checkpoint, 0.5 here"));
    }
}
