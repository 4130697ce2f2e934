using System.Diagnostics;
using System.Text.RegularExpressions;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>examples/Mnist, pytorch/examples' mnist/main.py on the library: its output lines and its flags.</summary>
public class MnistTests
{
    [Test]
    public void It_prints_main_pys_train_and_test_lines_and_saves_weights_PyTorch_can_load()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
        using var work = new TempFolder();
        var run = ExampleProgram.RunIn(work.Path, "Mnist", "--data", data.Path, "--epochs", "2", "--log-interval", "2", "--test-batch-size", "3", "--save-model");

        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines.Where(l => l.StartsWith("Train Epoch: ")).Select(l => l[..l.IndexOf('\t')]), Is.EqualTo(new[]
        {
            "Train Epoch: 1 [0/200 (0%)]", "Train Epoch: 1 [128/200 (50%)]",
            "Train Epoch: 2 [0/200 (0%)]", "Train Epoch: 2 [128/200 (50%)]",
        }));
        Assert.That(lines.Where(l => l.StartsWith("Train Epoch: ")), Has.All.Match(@"\tLoss: \d+\.\d{6}$"));
        var tests = lines.Where(l => l.StartsWith("Test set: ")).ToList();
        Assert.That(tests, Has.Count.EqualTo(2));
        Assert.That(tests, Has.All.Match(@"^Test set: Average loss: \d+\.\d{4}, Accuracy: [0-4]/4 \(\d+%\)$"));

        using var model = new LeNet();
        Weights.Load(model, Path.Combine(work.Path, "mnist_cnn.pt"));
    }

    [Test]
    public void A_dry_run_stops_after_the_first_logged_batch()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
        var run = ExampleProgram.Run("Mnist", "--data", data.Path, "--dry-run");
        Assert.That(Regex.Matches(run.Output, "^Train Epoch: ", RegexOptions.Multiline), Has.Count.EqualTo(14), "one line per epoch, main.py's 14");
    }

    [TestCase("--epochs", "none", "error: --epochs: expected a positive whole number; found 'none'")]
    [TestCase("--lr", "-1", "error: --lr: expected a positive number; found '-1'")]
    [TestCase("--colour", null, "error: unrecognized argument '--colour' (--help lists them)")]
    public void A_bad_flag_is_one_line_naming_it(string flag, string? value, string expected)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Mnist.dll"), flag, .. value is null ? Array.Empty<string>() : [value]])
        {
            RedirectStandardError = true, RedirectStandardOutput = true,
        };
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Not.Zero);
        Assert.That(errors, Is.EqualTo(new[] { expected }));
    }
}
