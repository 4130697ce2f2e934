using System.Globalization;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Serialization;

/// <summary>Weights move both ways between this library and real PyTorch (Debian's python3-torch) with the same logits.</summary>
[Category("PyTorch")]
public class SafetensorsPyTorchTests
{
    [Test]
    public void Weights_made_in_PyTorch_load_into_LeNet_and_give_PyTorchs_logits()
    {
        using var temp = new TempFolder();
        PyTorchPeer.Run("make", temp.Path);

        using var net = new LeNet();
        Safetensors.LoadModel(net, temp.File("torch_weights.safetensors"));
        using var io = Safetensors.Load(temp.File("torch_io.safetensors"));
        net.eval();
        using var logits = net.forward(io["input"]);

        Assert.That((logits - io["logits"]).abs().max().item<float>(), Is.LessThanOrEqualTo(1e-5f));
    }

    [Test]
    public void Weights_trained_here_load_into_the_tutorials_PyTorch_Net_and_give_the_same_logits()
    {
        using var temp = new TempFolder();
        manual_seed(3);
        using var net = new LeNet();
        // A few real updates, so the weights are ours, not an initialisation PyTorch could share.
        using (var trainer = new LeNetTorchSharp.Training.Trainer(net, optim.SGD(net.parameters(), 0.1, momentum: 0.9)))
            for (var i = 0; i < 5; i++) trainer.Step(randn(16, 1, 32, 32), randint(0, 10, [16]).to(ScalarType.Int64)).Dispose();
        net.eval();
        using var input = randn(4, 1, 32, 32);
        using var logits = net.forward(input);
        Safetensors.SaveModel(net, temp.File("dotnet_weights.safetensors"));
        Safetensors.Save(temp.File("dotnet_io.safetensors"), new Dictionary<string, Tensor> { ["input"] = input, ["logits"] = logits });

        var difference = double.Parse(PyTorchPeer.Run("check", temp.Path), CultureInfo.InvariantCulture);

        Assert.That(difference, Is.LessThanOrEqualTo(1e-5));
    }
}
