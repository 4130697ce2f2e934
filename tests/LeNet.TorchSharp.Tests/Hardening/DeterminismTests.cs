using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Hardening;

public class DeterminismTests
{
    [Test]
    public void Two_seeded_CPU_runs_have_bit_identical_losses_at_every_step_and_identical_weights()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 256);
        using var train = new MNIST(data.Path, transform: Normalize.MnistStatistics, imageSize: 32);

        (float[] Losses, Dictionary<string, Tensor> Weights) Run()
        {
            manual_seed(42);
            var model = new LeNet();
            using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.05, 0.9, nesterov: true));
            using var loader = new TensorDataLoader(train, 32, shuffle: true, seed: 42);
            var losses = new List<float>();
            for (var epoch = 0; epoch < 2; epoch++)
                foreach (var (images, labels) in loader)
                    using (var loss = trainer.Step(images, labels))
                        losses.Add(loss.item<float>());
            return ([.. losses], model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone()));
        }

        var first = Run();
        var second = Run();

        Assert.That(first.Losses, Has.Length.EqualTo(16));
        Assert.That(second.Losses.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(first.Losses.Select(BitConverter.SingleToInt32Bits)));
        foreach (var (name, weight) in first.Weights)
            Assert.That(second.Weights[name].equal(weight).all().item<bool>(), Is.True, name);
    }
}
