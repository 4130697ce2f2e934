using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;
using F = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Training;

/// <summary>FusedSGD against TorchSharp's SGD: the same parameters, bit for bit, whatever the options, groups and schedules.</summary>
public class FusedSGDTests
{
    sealed record Settings(double Momentum = 0.9, double Dampening = 0, double WeightDecay = 0, bool Nesterov = true, bool Maximize = false);

    static nn.Module<Tensor, Tensor> NewModel(string kind, ScalarType type = ScalarType.Float32)
    {
        manual_seed(3);
        nn.Module<Tensor, Tensor> model = kind switch
        {
            "lenet" => new LeNet(),
            "mlp" => new Mlp(),
            // 600,000 weights: split into chunks over libtorch's threads.
            "wide" => nn.Sequential(nn.Linear(1000, 600), nn.ReLU(), nn.Linear(600, 10)),
            _ => throw new ArgumentException(kind),
        };
        return model.to(type);
    }

    static Tensor Batch(string kind, int step, ScalarType type) =>
        randn(kind == "lenet" ? new long[] { 16, 1, 32, 32 } : kind == "mlp" ? new long[] { 16, 784 } : new long[] { 16, 1000 },
            generator: new Generator((ulong)step + 1)).to(type);

    /// <summary>Trains <paramref name="model"/> for <paramref name="steps"/> steps of random batches and returns its parameters.</summary>
    static Dictionary<string, Tensor> Train(nn.Module<Tensor, Tensor> model, optim.Optimizer optimizer, string kind, int steps = 12, LRScheduler? scheduler = null)
    {
        var type = model.parameters().First().dtype;
        for (var step = 0; step < steps; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var target = randint(0, 10, [16], generator: new Generator((ulong)step + 100));
            F.cross_entropy(model.call(Batch(kind, step, type)), target).backward();
            optimizer.step();
            scheduler?.step();
        }
        return model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
    }

    static void AssertSameBits(Dictionary<string, Tensor> actual, Dictionary<string, Tensor> expected)
    {
        Assert.That(actual.Keys, Is.EqualTo(expected.Keys));
        foreach (var (name, weight) in expected)
        {
            Assert.That(actual[name].equal(weight).all().item<bool>(), Is.True,
                $"{name}: {(actual[name] != weight).sum().item<long>()} of {weight.numel()} elements differ, by up to {(actual[name] - weight).abs().max().ToDouble():E2}");
        }
    }

    static void AssertLikeSgd(string kind, Settings s, int steps = 12)
    {
        using var scope = NewDisposeScope();
        using var reference = NewModel(kind);
        var sgd = optim.SGD(reference.parameters(), 0.05, s.Momentum, s.Dampening, s.WeightDecay, s.Nesterov, s.Maximize);
        var expected = Train(reference, sgd, kind, steps);
        using var model = NewModel(kind);
        var fused = new FusedSGD(model.parameters(), 0.05, s.Momentum, s.Dampening, s.WeightDecay, s.Nesterov, s.Maximize);
        var before = FusedSGD.FusedSteps;
        var actual = Train(model, fused, kind, steps);
        Assert.That(FusedSGD.FusedSteps - before, Is.EqualTo(steps), "every step took the fused path");
        AssertSameBits(actual, expected);
        using var untrained = NewModel(kind);
        Assert.That(expected.Values.First().equal(untrained.parameters().First()).all().item<bool>(), Is.False, "the parameters moved");
    }

    [TestCase("lenet")]
    [TestCase("mlp")]
    [TestCase("wide")]
    public void The_librarys_recipe_Nesterov_momentum_with_weight_decay_gives_SGDs_bits(string kind) =>
        AssertLikeSgd(kind, new Settings(WeightDecay: 5e-4));

    [Test]
    public void Every_option_gives_SGDs_bits()
    {
        AssertLikeSgd("mlp", new Settings(Momentum: 0, Nesterov: false));
        AssertLikeSgd("mlp", new Settings(Momentum: 0, Nesterov: false, WeightDecay: 1e-3));
        AssertLikeSgd("mlp", new Settings(Nesterov: false));
        AssertLikeSgd("mlp", new Settings(Nesterov: false, Dampening: 0.3, WeightDecay: 1e-2));
        AssertLikeSgd("lenet", new Settings(Maximize: true, WeightDecay: 1e-3), steps: 4);
    }

    [Test]
    public void Parameter_groups_schedulers_and_cycled_momentum_give_SGDs_bits()
    {
        foreach (var cycle in new[] { false, true })
        {
            using var scope = NewDisposeScope();
            Dictionary<string, Tensor> Run(bool fused)
            {
                var model = NewModel("lenet");
                SGD.ParamGroup[] groups =
                [
                    new(model.named_parameters().Where(p => p.name.StartsWith("conv")).Select(p => p.parameter), lr: 0.02, momentum: 0.8),
                    new(model.named_parameters().Where(p => p.name.StartsWith("fc")).Select(p => p.parameter)),
                ];
                var optimizer = fused ? new FusedSGD(groups, 0.05, 0.9, nesterov: true, weight_decay: 1e-4)
                    : optim.SGD(groups, 0.05, 0.9, nesterov: true, weight_decay: 1e-4);
                LRScheduler scheduler = cycle ? OneCycleLR(optimizer, 0.1, total_steps: 10) : StepLR(optimizer, 2, 0.5);
                return Train(model, optimizer, "lenet", steps: 10, scheduler: scheduler);
            }
            AssertSameBits(Run(fused: true), Run(fused: false));
        }
    }

    [Test]
    public void Parameters_the_kernel_does_not_take_get_SGDs_own_step()
    {
        using var scope = NewDisposeScope();
        using var reference = NewModel("mlp", ScalarType.Float64);
        var expected = Train(reference, optim.SGD(reference.parameters(), 0.05, 0.9, nesterov: true), "mlp", steps: 3);
        using var model = NewModel("mlp", ScalarType.Float64);
        var steps = FusedSGD.FusedSteps;
        AssertSameBits(Train(model, new FusedSGD(model.parameters(), 0.05, 0.9, nesterov: true), "mlp", steps: 3), expected);
        Assert.That(FusedSGD.FusedSteps, Is.EqualTo(steps), "float64 takes SGD's step");

        using var frozen = NewModel("mlp");
        var before = frozen.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        foreach (var (name, p) in frozen.named_parameters())
            if (name.StartsWith("fc1")) p.requires_grad_(false);
        var after = Train(frozen, new FusedSGD(frozen.parameters(), 0.05, 0.9, nesterov: true), "mlp", steps: 3);
        Assert.That(after["fc1.weight"].equal(before["fc1.weight"]).all().item<bool>(), Is.True, "a parameter without a gradient is left alone");
        Assert.That(after["fc2.weight"].equal(before["fc2.weight"]).all().item<bool>(), Is.False);

        // A parameter listed twice is updated twice, in order, as SGD does.
        Dictionary<string, Tensor> Twice(bool fused)
        {
            var model = NewModel("mlp");
            var parameters = model.parameters().Concat(model.parameters().Take(1)).ToList();
            var optimizer = fused ? new FusedSGD(parameters, 0.05, 0.9, nesterov: true) : optim.SGD(parameters, 0.05, 0.9, nesterov: true);
            return Train(model, optimizer, "mlp", steps: 3);
        }
        steps = FusedSGD.FusedSteps;
        AssertSameBits(Twice(fused: true), Twice(fused: false));
        Assert.That(FusedSGD.FusedSteps, Is.EqualTo(steps), "a parameter listed twice takes SGD's step");
    }

    [Test]
    public void Step_runs_the_closure_and_returns_its_loss()
    {
        using var scope = NewDisposeScope();
        using var model = NewModel("mlp");
        var optimizer = new FusedSGD(model.parameters(), 0.1);
        var x = Batch("mlp", 0, ScalarType.Float32);
        var y = randint(0, 10, [16], generator: new Generator(7));
        var before = F.cross_entropy(model.call(x), y).item<float>();
        var calls = 0;
        var loss = optimizer.step(() =>
        {
            calls++;
            optimizer.zero_grad();
            var l = F.cross_entropy(model.call(x), y);
            l.backward();
            return l;
        });
        Assert.That((calls, loss.item<float>()), Is.EqualTo((1, before)));
        Assert.That(F.cross_entropy(model.call(x), y).item<float>(), Is.LessThan(before));
    }
}
