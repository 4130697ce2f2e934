using System.Diagnostics;
using LeNetTorchSharp.Plots;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using SkiaSharp;

namespace LeNetTorchSharp.Tests.App;

/// <summary>
/// What a hostile user tries on the trainer program: every refusal is one line naming the flag or file, what was
/// expected and what was found, with a non-zero exit, before any data is loaded, and nothing is written.
/// </summary>
public class BadInputTests : CliFixture
{
    /// <summary>A training run's flags with the small generated dataset, one epoch, on the CPU, into <paramref name="folder"/>.</summary>
    string[] Training(string folder, params string[] extra) =>
        ["--data", data.Path, "--no-download", "--out", folder, "--device", "cpu", "--no-plots", .. extra, .. extra.Contains("--epochs") ? Array.Empty<string>() : ["--epochs", "1"]];

    static void AssertOneLine((int Exit, string Out, string[] Errors) result, string expected, int exit = 1)
    {
        Assert.That(result.Exit, Is.EqualTo(exit), string.Join("\n", result.Errors));
        Assert.That(result.Errors, Has.Length.EqualTo(1), string.Join("\n", result.Errors));
        Assert.That(result.Errors[0], Is.EqualTo("error: " + expected));
        Assert.That(result.Out, Does.Not.Contain("Data:"), "refused before any data was loaded");
    }

    [TestCase("--model", "resnet", "lenet, mlp")]
    [TestCase("--optimizer", "lbfgs", "sgd, adam, rmsprop")]
    [TestCase("--device", "tpu", "auto, cpu, cuda")]
    [TestCase("--schedule", "cosine", "constant, step, onecycle")]
    [TestCase("--dataset", "cifar", "mnist, fashion-mnist")]
    [TestCase("--recipe", "slow", "fast, tutorial")]
    public void A_choice_flag_with_another_value_lists_the_choices(string flag, string value, string choices)
    {
        AssertOneLine(Run(flag, value), $"{flag}: expected one of {choices}; found '{value}'.", exit: 2);
    }

    [Test]
    public void Choices_are_read_in_any_case()
    {
        var (exit, output, errors) = Run(Training(run.File("r"), "--model", "MLP", "--optimizer", "Adam", "--lr", "0.001"));
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.Contain("Model: Mlp"));
    }

    [TestCase("--epochs", "many", "--epochs: expected a whole number; found 'many'.")]
    [TestCase("--lr", "fast", "--lr: expected a number; found 'fast'.")]
    public void A_number_flag_with_text_says_what_it_expected(string flag, string value, string expected)
    {
        AssertOneLine(Run(flag, value), expected, exit: 2);
    }

    [TestCase(new[] { "--epochs", "0" }, "--epochs: expected 1 to 10,000 epochs; found 0.")]
    [TestCase(new[] { "--lr", "-1" }, "--lr: expected a finite number ≥ 0; found -1.")]
    [TestCase(new[] { "--lr", "NaN" }, "--lr: expected a finite number ≥ 0; found NaN.")]
    [TestCase(new[] { "--batch-size", "0" }, "--batch-size: expected a positive number of samples; found 0.")]
    [TestCase(new[] { "--momentum", "-0.5" }, "--momentum: expected a finite number ≥ 0; found -0.5.")]
    [TestCase(new[] { "--optimizer", "adam", "--nesterov", "true" }, "--nesterov true: expected --optimizer sgd with --momentum above 0; found --optimizer adam with --momentum 0.9.")]
    [TestCase(new[] { "--momentum", "0.95" }, "--momentum 0.95: expected --schedule constant or step, where it sets the momentum; found --schedule onecycle, which moves the momentum from 0.95 down to 0.85 and back itself (as PyTorch's OneCycleLR does).")]
    [TestCase(new[] { "--optimizer", "adam", "--schedule", "constant", "--momentum", "0.5" }, "--momentum: expected --optimizer sgd or rmsprop; found --optimizer adam, which has no momentum setting.")]
    [TestCase(new[] { "--ema", "1" }, "--ema: expected a decay in [0, 1) (0 evaluates the trained weights themselves); found 1.")]
    [TestCase(new[] { "--gamma", "0.5" }, "--gamma: expected --schedule step, the schedule it configures; found --schedule onecycle.")]
    [TestCase(new[] { "--recipe", "tutorial", "--step-size", "2" }, "--step-size: expected --schedule step, the schedule it configures; found --schedule constant.")]
    public void Out_of_range_values_are_refused_in_the_flags_words_before_any_data_is_loaded(string[] flags, string expected)
    {
        // An empty data folder: were the data looked at first, the error would be about missing files.
        using var empty = new TempFolder();
        AssertOneLine(Run(["--data", empty.Path, "--no-download", "--out", run.File("r"), .. flags]), expected);
        Assert.That(Directory.Exists(run.File("r")), Is.False, "nothing written");
    }

    [Test]
    public void A_batch_larger_than_the_training_set_is_refused()
    {
        AssertOneLine(Run(Training(run.File("r"), "--batch-size", "1000000")), "--batch-size: expected at most the training set's 200 images; found 1,000,000.");
        Assert.That(Directory.Exists(run.File("r")), Is.False);
    }

    [Test]
    public void Save_pointing_at_a_directory_or_an_unknown_format_is_refused_before_training()
    {
        Directory.CreateDirectory(run.File("weights"));
        AssertOneLine(Run(Training(run.File("r"), "--save", run.File("weights"))), $"--save {run.File("weights")}: is a directory; expected a weights file to write.");
        AssertOneLine(Run(Training(run.File("r"), "--save", run.File("w.bin"))), $"--save {run.File("w.bin")}: expected a file ending in .safetensors, .pt, .pth or .onnx; found '.bin'.");
        Assert.That(Directory.Exists(run.File("r")), Is.False);
    }

    [Test]
    public void A_new_run_into_a_folder_holding_a_run_is_refused_unless_forced()
    {
        var folder = run.File("r");
        Assert.That(Run(Training(folder, "--model", "mlp")).Exit, Is.Zero);
        var before = Directory.GetFiles(folder).ToDictionary(f => f, File.GetLastWriteTimeUtc);

        AssertOneLine(Run(Training(folder, "--model", "mlp")),
            $"--out {folder}: expected an empty run folder, found 4 entries (an earlier run?); resume it with --resume, choose another folder, or pass --force to replace its run files.");
        Assert.That(Directory.GetFiles(folder).ToDictionary(f => f, File.GetLastWriteTimeUtc), Is.EqualTo(before), "the earlier run is untouched");

        File.WriteAllText(Path.Combine(folder, "notes.txt"), "mine");
        var (exit, _, errors) = Run(Training(folder, "--model", "mlp", "--force"));
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(new TrainMnist.MetricsLog(Path.Combine(folder, "metrics.jsonl")).Read().Select(m => m.Epoch), Is.EqualTo(new[] { 1 }), "the old metrics were replaced, not appended to");
        Assert.That(File.ReadAllText(Path.Combine(folder, "notes.txt")), Is.EqualTo("mine"), "files that are not the run's stay");
    }

    [Test]
    public void Resume_refuses_flags_that_contradict_the_checkpoint_naming_its_value()
    {
        var folder = run.File("r");
        Assert.That(Run(Training(folder, "--model", "mlp", "--lr", "0.05")).Exit, Is.Zero);
        var checkpoint = Path.Combine(folder, "last.ckpt");
        var before = Directory.GetFiles(folder).ToDictionary(f => f, File.GetLastWriteTimeUtc);
        string[] resumeTo(int epochs) => ["--data", data.Path, "--no-download", "--device", "cpu", "--no-plots", "--epochs", epochs.ToString(), "--resume", checkpoint];
        var resume = resumeTo(2);

        AssertOneLine(Run([.. resume, "--model", "lenet"]),
            $"--model LeNet but the checkpoint {checkpoint} was trained with model Mlp: a resume continues that run's recipe; leave --model out (or start a new run).");
        AssertOneLine(Run([.. resume, "--lr", "0.1"]),
            $"--lr 0.1 but the checkpoint {checkpoint} was trained with lr 0.05: a resume continues that run's recipe; leave --lr out (or start a new run).");
        AssertOneLine(Run([.. resume, "--batch-size", "32"]),
            $"--batch-size 32 but the checkpoint {checkpoint} was trained with batch-size 128: a resume continues that run's recipe; leave --batch-size out (or start a new run).");
        AssertOneLine(Run([.. resume, "--optimizer", "adam"]),
            $"--optimizer Adam but the checkpoint {checkpoint} was trained with optimizer Sgd: a resume continues that run's recipe; leave --optimizer out (or start a new run).");
        AssertOneLine(Run([.. resume, "--recipe", "tutorial"]),
            $"--recipe tutorial sets batch-size 64, but the checkpoint {checkpoint} was trained with batch-size 128: a resume continues that run's recipe; leave --recipe out (or start a new run).");
        Assert.That(Directory.GetFiles(folder).ToDictionary(f => f, File.GetLastWriteTimeUtc), Is.EqualTo(before), "nothing written");

        // Flags that agree with the checkpoint, and those a resume may change, are fine.
        var (exit, output, errors) = Run([.. resumeTo(3), "--model", "mlp", "--lr", "0.05"]);
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.Contain("training to epoch 3"));
    }

    [Test]
    public void After_a_kill_between_the_metrics_line_and_the_checkpoint_a_resume_logs_each_epoch_once()
    {
        var folder = run.File("r");
        Assert.That(Run(Training(folder, "--model", "mlp", "--epochs", "2")).Exit, Is.Zero);
        // What a kill after epoch 3's metrics line, before its checkpoint, leaves: the line, and epoch 2's checkpoint.
        var metrics = Path.Combine(folder, "metrics.jsonl");
        File.AppendAllLines(metrics, [File.ReadAllLines(metrics)[^1].Replace("\"epoch\":2", "\"epoch\":3")]);

        var (exit, _, errors) = Run(["--data", data.Path, "--no-download", "--device", "cpu", "--no-plots", "--epochs", "4", "--resume", Path.Combine(folder, "last.ckpt")]);

        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(new TrainMnist.MetricsLog(metrics).Read().Select(m => m.Epoch), Is.EqualTo(new[] { 1, 2, 3, 4 }));
    }

    static string Png(TempFolder folder, string name)
    {
        using var digit = TorchSharp.torch.zeros(28, 28);
        digit.narrow(0, 6, 16).narrow(1, 12, 4).fill_(1);
        var path = folder.File(name);
        ImagePng.Save(digit, path, scale: 4);
        return path;
    }

    static string Jpeg(TempFolder folder, string name)
    {
        using var bitmap = SKBitmap.Decode(Png(folder, name + ".png"));
        using var jpeg = bitmap.Encode(SKEncodedImageFormat.Jpeg, 90);
        var path = folder.File(name);
        File.WriteAllBytes(path, jpeg.ToArray());
        return path;
    }

    [Test]
    public void A_truncated_PNG_or_JPEG_is_refused_not_classified()
    {
        Assert.That(Run(Training(run.File("r"), "--model", "mlp")).Exit, Is.Zero);
        var model = Path.Combine(run.File("r"), "model.safetensors");
        foreach (var image in new[] { Png(run, "digit.png"), Jpeg(run, "digit.jpg") })
        {
            var bytes = File.ReadAllBytes(image);
            File.WriteAllBytes(image, bytes[..(bytes.Length * 2 / 3)]);
            var (exit, output, errors) = Run("predict", "--model", model, "--image", image);
            Assert.That(exit, Is.EqualTo(1), output);
            Assert.That(errors, Has.Length.EqualTo(1));
            Assert.That(errors[0], Does.StartWith($"error: {image}: is truncated or damaged:"));
        }
    }

    [Test]
    public void A_directory_given_as_image_says_so()
    {
        Assert.That(Run(Training(run.File("r"), "--model", "mlp")).Exit, Is.Zero);
        var (exit, _, errors) = Run("predict", "--model", Path.Combine(run.File("r"), "model.safetensors"), "--image", data.Path);
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(errors, Is.EqualTo(new[] { $"error: {data.Path}: is a directory; expected a file" }));
    }

    [TestCase("--out")]
    [TestCase("--data")]
    [TestCase("--resume")]
    [TestCase("--save")]
    public void An_empty_path_is_refused_naming_its_flag(string flag)
    {
        AssertOneLine(Run(flag, ""), $"{flag}: expected a path; found an empty string.", exit: 2);
    }

    [TestCase("--image")]
    [TestCase("--model")]
    [TestCase("--figure")]
    public void An_empty_path_to_predict_is_refused_naming_its_flag(string flag)
    {
        var values = new Dictionary<string, string> { ["--model"] = "w.pt", ["--image"] = "d.png" };
        values[flag] = "";
        AssertOneLine(Run(["predict", .. values.SelectMany(v => new[] { v.Key, v.Value })]), $"{flag}: expected a path; found an empty string.", exit: 2);
    }

    [Test]
    public void A_data_path_that_is_a_file_is_refused_as_such()
    {
        var file = Path.Combine(data.Path, "train-images-idx3-ubyte");
        AssertOneLine(Run(["--data", file, "--no-download", "--out", run.File("r"), "--epochs", "1"]),
            $"--data {file}: is a file; expected the folder of the dataset's IDX files.");
    }

    [TestCase("--lr", "1e308")]
    [TestCase("--momentum", "1e308")]
    [TestCase("--weight-decay", "3.5e38")]
    public void A_value_no_float32_can_hold_is_refused_as_such(string flag, string value)
    {
        AssertOneLine(Run(Training(run.File("r"), flag, value)), $"{flag}: expected a number a float32 can hold (at most 3.4E+38); found {value.Replace("e", "E+")}.");
    }

    [Test]
    public void Epochs_beyond_what_a_schedule_can_count_are_refused_before_any_data_is_loaded()
    {
        AssertOneLine(Run(Training(run.File("r"), "--epochs", "2147483647")), "--epochs: expected 1 to 10,000 epochs; found 2,147,483,647.");
    }

    [Test]
    public void A_figure_that_would_overwrite_the_picture_is_refused()
    {
        Assert.That(Run(Training(run.File("r"), "--model", "mlp")).Exit, Is.Zero);
        var image = run.File("digit.png");
        using (var digit = TorchSharp.torch.rand(28, 28)) ImagePng.Save(digit, image);
        var before = File.ReadAllBytes(image);
        AssertOneLine(Run("predict", "--model", Path.Combine(run.File("r"), "model.safetensors"), "--image", image, "--figure", image),
            $"--figure {image}: is the --image itself; expected another file (the figure would overwrite your picture).");
        Assert.That(File.ReadAllBytes(image), Is.EqualTo(before));
    }
}
