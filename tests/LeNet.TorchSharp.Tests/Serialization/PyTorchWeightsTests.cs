using System.Globalization;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Serialization;

/// <summary>PyTorch's <c>.pt</c> / <c>.pth</c> state dicts, both ways, against real PyTorch (Debian's python3-torch).</summary>
[Category("PyTorch")]
public class PyTorchWeightsTests
{
    static float MaxDifference(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Test]
    public void A_state_dict_saved_by_torch_save_loads_into_LeNet_and_the_MLP_and_gives_PyTorchs_logits()
    {
        using var temp = new TempFolder();
        PyTorchPeer.Run("make-pt", temp.Path);
        using var io = Safetensors.Load(temp.File("torch_io.safetensors"));

        using var net = new LeNet();
        Weights.Load(net, temp.File("net.pt"));
        net.eval();
        using (no_grad()) Assert.That(MaxDifference(net.call(io["net_input"]), io["net_logits"]), Is.LessThanOrEqualTo(1e-5f));

        using var mlp = new Mlp();
        Weights.Load(mlp, temp.File("mlp.pth"));
        mlp.eval();
        using (no_grad()) Assert.That(MaxDifference(mlp.call(io["mlp_input"]), io["mlp_logits"]), Is.LessThanOrEqualTo(1e-5f));
    }

    [Test]
    public void Weights_saved_here_as_pt_load_in_PyTorch_with_load_state_dict_and_give_the_same_logits()
    {
        using var temp = new TempFolder();
        manual_seed(3);
        using var net = new LeNet();
        using var mlp = new Mlp();
        // A few real updates, so the weights are ours, not an initialisation PyTorch could share.
        using (var trainer = new LeNetTorchSharp.Training.Trainer(net, optim.SGD(net.parameters(), 0.1, momentum: 0.9)))
            for (var i = 0; i < 3; i++) trainer.Step(randn(16, 1, 32, 32), randint(0, 10, [16])).Dispose();
        net.eval();
        mlp.eval();
        using var netInput = randn(4, 1, 32, 32);
        using var mlpInput = randn(4, 1, 28, 28);
        using (no_grad())
            Safetensors.Save(temp.File("dotnet_io.safetensors"), new Dictionary<string, Tensor>
            {
                ["net_input"] = netInput, ["net_logits"] = net.call(netInput), ["mlp_input"] = mlpInput, ["mlp_logits"] = mlp.call(mlpInput),
            });
        Weights.Save(net, temp.File("dotnet_net.pt"));
        Weights.Save(mlp, temp.File("dotnet_mlp.pt"));

        var difference = double.Parse(PyTorchPeer.Run("check-pt", temp.Path), CultureInfo.InvariantCulture);

        Assert.That(difference, Is.LessThanOrEqualTo(1e-5));
        Assert.That(Directory.GetFiles(temp.Path, "*.tmp*"), Is.Empty);
    }

    [Test]
    public void A_model_loaded_from_PyTorchs_pt_still_trains()
    {
        // PyTorch saves state dicts without requires_grad; PyBridge's load_py would copy that and stop training.
        using var temp = new TempFolder();
        PyTorchPeer.Run("make-pt", temp.Path);
        using var net = new LeNet();
        Weights.Load(net, temp.File("net.pt"));
        Assert.That(net.parameters().All(p => p.requires_grad), Is.True);

        var before = net.get_parameter("fc1.weight")!.clone();
        using (var trainer = new LeNetTorchSharp.Training.Trainer(net, optim.SGD(net.parameters(), 0.1)))
            trainer.Step(randn(8, 1, 32, 32), randint(0, 10, [8])).Dispose();
        Assert.That(net.get_parameter("fc1.weight")!.equal(before).all().item<bool>(), Is.False, "one optimizer step changes the weights");
    }

    [Test]
    public void PyTorchs_legacy_format_and_a_whole_pickled_model_are_refused_in_one_line()
    {
        using var temp = new TempFolder();
        PyTorchPeer.Run("make-pt", temp.Path);
        using var net = new LeNet();
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("legacy.pt")))!.Message, Is.EqualTo(
            $"{temp.File("legacy.pt")}: saved in PyTorch's legacy format (before 1.6), which is not supported: load it in Python and save it again with torch.save(net.state_dict(), path)"));
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("whole.pt")))!.Message, Is.EqualTo(
            $"{temp.File("whole.pt")}: holds a whole pickled model (tutorial_nets.Net), not a state_dict: in Python, save its weights with torch.save(net.state_dict(), path)"));
    }

    [Test]
    public void The_tutorials_Sequential_and_OrderedDict_MLPs_load_by_their_layers_order_and_predict_as_PyTorch()
    {
        using var temp = new TempFolder();
        PyTorchPeer.Run("make-odd", temp.Path);
        using var io = Safetensors.Load(temp.File("odd_io.safetensors"));
        foreach (var (file, probabilities, layers) in new[]
        {
            ("sequential.pt", "sequential_probabilities", "0 → fc1, 2 → fc2, 4 → fc3"),
            ("ordered.pt", "ordered_probabilities", "fc1 → fc1, fc2 → fc2, output → fc3"),
        })
        {
            using var predictor = LeNetTorchSharp.Inference.Predictor.Load(temp.File(file));
            Assert.That(predictor.Card.Model, Is.EqualTo(ModelKind.Mlp), file);
            Assert.That(predictor.KeyMapping, Is.EqualTo("keys read by their order: " + layers), file);
            using var mlp = new Mlp();
            Weights.Load(mlp, temp.File(file));
            mlp.eval();
            using (no_grad())
                Assert.That(MaxDifference(nn.functional.softmax(mlp.call(io["mlp_input"]), 1), io[probabilities]), Is.LessThanOrEqualTo(1e-6f), file);
        }
    }

    [Test]
    public void A_DataParallel_state_dict_and_one_of_views_offsets_shared_storage_and_stride_0_load_as_PyTorch_loads_them()
    {
        using var temp = new TempFolder();
        PyTorchPeer.Run("make-odd", temp.Path);
        using var io = Safetensors.Load(temp.File("odd_io.safetensors"));
        using var parallel = new LeNet();
        Weights.Load(parallel, temp.File("dataparallel.pt"));
        using var views = new LeNet();
        Weights.Load(views, temp.File("views.pt"));
        parallel.eval();
        views.eval();
        using (no_grad())
        {
            Assert.That(MaxDifference(parallel.call(io["net_input"]), io["net_logits"]), Is.LessThanOrEqualTo(1e-5f));
            Assert.That(MaxDifference(views.call(io["net_input"]), io["views_logits"]), Is.LessThanOrEqualTo(1e-5f));
        }
        Assert.That(views.get_parameter("fc3.bias")!.data<float>().ToArray(), Has.All.EqualTo(0.25f), "the stride-0 bias, ten copies of one value");
        using var predictor = LeNetTorchSharp.Inference.Predictor.Load(temp.File("dataparallel.pt"));
        Assert.That(predictor.KeyMapping, Is.EqualTo("the keys' 'module.' prefix (nn.DataParallel) dropped"));
    }

    [Test]
    public void TorchScript_and_weights_holding_NaN_are_refused_saying_what_they_are()
    {
        using var temp = new TempFolder();
        PyTorchPeer.Run("make-odd", temp.Path);
        using var net = new LeNet();
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("script.pt")))!.Message, Is.EqualTo(
            $"{temp.File("script.pt")}: is a TorchScript module (torch.jit.save), not a state_dict: in Python, " +
            "torch.save(torch.jit.load(path).state_dict(), \"weights.pt\") writes its weights as a state_dict, which loads here"));
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("nan.pt")))!.Message, Is.EqualTo(
            $"{temp.File("nan.pt")}: parameter 'fc1.weight' holds 1 NaN or infinite values of 48000: weights from a run that diverged cannot give an answer"));
        Assert.That(Assert.Throws<WeightsException>(() => LeNetTorchSharp.Inference.Predictor.Load(temp.File("nan.pt")))!.Message, Does.Contain("'fc1.weight' holds 1 NaN"));
    }

}

/// <summary>The weights entry point and PyTorch files written here: what goes wrong is refused before anything loads.</summary>
public class WeightsTests
{
    [TestCase(".pt")]
    [TestCase(".pth")]
    [TestCase(".safetensors")]
    public void Save_then_Load_gives_the_same_weights_in_each_format(string extension)
    {
        using var temp = new TempFolder();
        manual_seed(1);
        using var a = new LeNet();
        using var b = new LeNet();
        Weights.Save(a, temp.File("w" + extension));
        Weights.Load(b, temp.File("w" + extension));
        foreach (var (name, tensor) in a.state_dict())
            Assert.That(b.state_dict()[name].equal(tensor).all().item<bool>(), Is.True, name);
        Assert.That(b.parameters().All(p => p.requires_grad), Is.True);
    }

    [Test]
    public void A_pt_of_another_fc1_is_refused_naming_the_file_the_key_and_both_shapes_and_nothing_loads()
    {
        using var temp = new TempFolder();
        using var wide = new LeNet(new LeNetOptions { Fc1 = 200 });
        Weights.Save(wide, temp.File("wide.pt"));
        using var net = new LeNet();
        var before = net.get_parameter("conv1.weight")!.clone();

        var error = Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("wide.pt")));

        Assert.That(error!.Message, Is.EqualTo($"{temp.File("wide.pt")}: parameter 'fc1.weight': expected shape [120, 400] for LeNet, found [200, 400] (weights of another architecture?)"));
        Assert.That(net.get_parameter("conv1.weight")!.equal(before).all().item<bool>(), Is.True, "nothing was loaded");
    }

    [Test]
    public void A_pt_of_another_network_names_the_missing_and_unexpected_keys()
    {
        using var temp = new TempFolder();
        using var mlp = new Mlp();
        Weights.Save(mlp, temp.File("mlp.pt"));
        using var net = new LeNet();
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("mlp.pt")))!.Message, Is.EqualTo(
            $"{temp.File("mlp.pt")}: the file does not hold LeNet's parameters: missing keys conv1.weight [6, 1, 5, 5], conv1.bias [6], conv2.weight [16, 6, 5, 5], conv2.bias [16] (weights of another architecture?)"));
        using var deeper = new Mlp(hidden: [128, 64, 32]);
        Weights.Save(deeper, temp.File("deeper.pt"));
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(mlp, temp.File("deeper.pt")))!.Message, Is.EqualTo(
            $"{temp.File("deeper.pt")}: the file does not hold Mlp's parameters: unexpected keys fc4.bias [10], fc4.weight [10, 32] (weights of another architecture?)"));
    }

    [Test]
    public void Files_that_are_not_PyTorch_weights_are_refused_saying_what_they_are()
    {
        using var temp = new TempFolder();
        using var net = new LeNet();
        File.WriteAllBytes(temp.File("legacy.pt"), [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20]);
        File.WriteAllText(temp.File("text.pt"), "hello");
        File.WriteAllBytes(temp.File("empty.pth"), []);
        Directory.CreateDirectory(temp.File("folder.pt"));
        (string File, string Problem)[] cases =
        [
            ("legacy.pt", "saved in PyTorch's legacy format (before 1.6)"),
            ("text.pt", "not a PyTorch weights file: expected the zip archive torch.save writes, found other data"),
            ("empty.pth", "not a PyTorch weights file: expected the zip archive torch.save writes, found an empty file"),
            ("folder.pt", "is a directory; expected a file"),
            ("missing.pt", "no such file"),
        ];
        foreach (var (file, problem) in cases)
            Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File(file)))!.Message,
                Does.StartWith($"{temp.File(file)}: {problem}"), file);
    }

    [Test]
    public void A_LeNet_TorchSharp_checkpoint_given_as_a_pt_file_says_what_it_is()
    {
        using var temp = new TempFolder();
        using var net = new LeNet();
        using (var trainer = new LeNetTorchSharp.Training.Trainer(net, optim.SGD(net.parameters(), 0.1)))
            LeNetTorchSharp.Training.Checkpoint.Save(temp.File("run.pt"), trainer, card: new ModelCard(ModelKind.LeNet, "MNIST", [.. LeNetTorchSharp.Data.MnistResources.Mnist.Classes], 0.1307, 0.3081));
        Assert.That(Assert.Throws<WeightsException>(() => Weights.Load(net, temp.File("run.pt")))!.Message,
            Does.Contain("is a LeNet.TorchSharp training checkpoint, not a PyTorch weights file"));
    }

    [Test]
    public void An_unknown_extension_is_refused_listing_the_formats()
    {
        using var net = new LeNet();
        var error = Assert.Throws<ArgumentException>(() => Weights.Save(net, "weights.bin"));
        Assert.That(error!.Message, Does.StartWith("weights.bin: expected a weights file ending in .safetensors, .pt, .pth; found '.bin'."));
        Assert.That(File.Exists("weights.bin"), Is.False);
    }
}
