using System.Diagnostics;
using System.Text.Json;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Onnx;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>examples/OnnxInference: an exported model deployed on ONNX Runtime alone.</summary>
public class OnnxInferenceTests
{
    [Test]
    public void It_depends_on_ONNX_Runtime_and_no_TorchSharp_or_libtorch()
    {
        var assets = Path.Combine(RepoPaths.Root, "examples", "OnnxInference", "obj", "project.assets.json");
        using var json = JsonDocument.Parse(File.ReadAllText(assets));
        var packages = json.RootElement.GetProperty("libraries").EnumerateObject().Select(p => p.Name.Split('/')[0]).ToList();
        Assert.That(packages, Does.Contain("Microsoft.ML.OnnxRuntime"));
        Assert.That(packages.Where(p => p.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase) || p.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase)
            || p.StartsWith("TorchVision", StringComparison.OrdinalIgnoreCase) || p == "LeNet.TorchSharp"), Is.Empty);
    }

    [Test]
    public void It_classifies_a_picture_and_the_test_set_as_the_library_does()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path);
        using var temp = new TempFolder();
        var card = new ModelCard(ModelKind.LeNet, "MNIST", [.. Enumerable.Range(0, 10).Select(i => i.ToString())], 0.1307, 0.3081);
        manual_seed(7);
        using (var net = new LeNet())
        {
            OnnxExporter.Export(net, temp.File("lenet.onnx"), card);
            Weights.Save(net, temp.File("lenet.safetensors"), card);
        }
        var picture = temp.File("digit.png");
        LeNetTorchSharp.Plots.ImagePng.Save(rand(28, 28), picture);

        var run = ExampleProgram.RunIn(temp.Path, "OnnxInference", "--model", temp.File("lenet.onnx"), "--image", picture, "--mnist", data.Path);

        using var library = Predictor.Load(temp.File("lenet.safetensors"));
        var best = library.Predict(picture).Ranked.First();
        var images = IdxFile.Read(Path.Combine(data.Path, "t10k-images-idx3-ubyte"), 3);
        var labels = IdxFile.Read(Path.Combine(data.Path, "t10k-labels-idx1-ubyte"), 1).Data;
        using var batch = tensor(images.Data, [images.Shape[0], 1, 28, 28]);
        var p = library.Probabilities(batch);
        var correct = Enumerable.Range(0, labels.Length).Count(i => Array.IndexOf(p, p.Skip(i * 10).Take(10).Max(), i * 10) - i * 10 == labels[i]);

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.StartWith("lenet.onnx: LeNet trained on MNIST (ONNX opset 17, input N x 1 x 32 x 32, 10 classes), loaded in "));
        Assert.That(lines[1], Does.StartWith(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"digit.png: {best.Class} ({best.Probability * 100:F2}%), then ")));
        Assert.That(lines[2], Does.Match(@"^first answer \d+\.\d\d s after process start$"));
        Assert.That(lines[3], Is.EqualTo($"MNIST test set ({data.Path}): {correct * 100.0 / 4:F2}% ({correct}/4)"));
        Assert.That(lines[4], Does.Match(@"^  batch 256: [\d,]+ images/s \(best of 3 passes\); batch 1: \d+\.\d{3} ms an image"));
        Assert.That(lines[5], Does.Match(@"^peak RSS \d+ MB$"));
    }

    [Test]
    public void A_model_it_cannot_use_gets_one_line_and_a_missing_flag_the_usage()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("model.onnx"), "not a model");
        var (exit, output, error) = Start(temp.Path, "--model", temp.File("model.onnx"));
        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(error.TrimEnd().Split('\n'), Has.Length.EqualTo(1));
        Assert.That(error, Does.StartWith($"error: {temp.File("model.onnx")}: is "));

        (exit, _, error) = Start(temp.Path, "--image", "digit.png");
        Assert.That(exit, Is.EqualTo(2));
        Assert.That(error.TrimEnd(), Is.EqualTo("error: --model is required. usage: OnnxInference --model MODEL.onnx [--image PICTURE]... [--mnist FOLDER]"));
    }

    static (int Exit, string Output, string Error) Start(string folder, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "OnnxInference.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}
