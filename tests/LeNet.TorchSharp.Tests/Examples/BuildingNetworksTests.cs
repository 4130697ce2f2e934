using System.Globalization;
using System.Text.RegularExpressions;
using LeNetTorchSharp.Tests.Data;
using SkiaSharp;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>"Building networks with nn" (examples/BuildingNetworks): what each step prints and draws, run as a
/// user runs it, on a small generated MNIST-format set so it runs anywhere.</summary>
public class BuildingNetworksTests
{
    TempFolder data = null!;
    TempFolder figures = null!;
    ExampleProgram run = null!;

    [OneTimeSetUp]
    public void RunTheExample()
    {
        data = new TempFolder();
        figures = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
        run = ExampleProgram.Run("BuildingNetworks", figures.Path, data.Path);
    }

    [OneTimeTearDown]
    public void DeleteFolders()
    {
        data.Dispose();
        figures.Dispose();
    }

    static (int Width, int Height, double Spread) ReadPng(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.That(bitmap, Is.Not.Null, $"{path} is not a readable image");
        var lum = new List<double>();
        for (var y = 0; y < bitmap.Height; y += 4)
            for (var x = 0; x < bitmap.Width; x += 4)
            {
                var c = bitmap.GetPixel(x, y);
                lum.Add(0.299 * c.Red + 0.587 * c.Green + 0.114 * c.Blue);
            }
        var mean = lum.Average();
        return (bitmap.Width, bitmap.Height, Math.Sqrt(lum.Average(v => (v - mean) * (v - mean))));
    }

    static double Number(string line, string pattern) =>
        double.Parse(Regex.Match(line, pattern).Groups[1].Value, CultureInfo.InvariantCulture);

    [Test]
    public void The_sections_are_the_tutorials_headings_in_order()
    {
        Assert.That(run.Sections.Keys, Is.EqualTo(new[]
        {
            "Neural networks with PyTorch", "Building networks with PyTorch", "Activation functions",
            "Initializing weights and biases", "Forward pass", "Using nn.Sequential",
        }));
    }

    [Test]
    public void A_batch_is_64_images_1x28x28_normalized_to_minus1_1_with_64_labels()
    {
        Assert.That(run.Line("Neural networks with PyTorch", "images "), Is.EqualTo("images [64, 1, 28, 28] Float32, labels [64], pixels in [-1, 1]"));
    }

    [Test]
    public void The_digit_is_a_224_pixel_grayscale_PNG_that_is_not_blank()
    {
        var path = Path.Combine(figures.Path, "digit.png");
        Assert.That(run.Line("Neural networks with PyTorch", "images[1]"), Does.EndWith(path));
        var (width, height, spread) = ReadPng(path);
        Assert.That((width, height), Is.EqualTo((224, 224)), "28 x 28 pixels drawn 8 times larger");
        Assert.That(spread, Is.GreaterThan(10));
    }

    [Test]
    public void The_raw_weight_network_maps_64x784_to_64x10_and_softmax_by_hand_matches_torch()
    {
        Assert.That(run.Line("Neural networks with PyTorch", "inputs "), Is.EqualTo("inputs [64, 784] -> out [64, 10]"));
        Assert.That(run.Line("Neural networks with PyTorch", "probabilities "), Is.EqualTo("probabilities [64, 10]; first row sums: [1, 1, 1, 1, 1]"));
        Assert.That(Number(run.Line("Neural networks with PyTorch", "largest difference"), @"softmax: (\S+)$"), Is.LessThan(1e-5));
    }

    [Test]
    public void The_Network_class_and_its_functional_twin_have_203530_parameters_and_give_probabilities()
    {
        var lines = run.Sections["Building networks with PyTorch"];
        Assert.That(lines.Take(6), Is.EqualTo(new[]
        {
            "Network(",
            "  (hidden): Linear(in_features=784, out_features=256, bias=True)",
            "  (output): Linear(in_features=256, out_features=10, bias=True)",
            "  (sigmoid): Sigmoid()",
            "  (softmax): Softmax(dim=1)",
            ")",
        }));
        Assert.That(run.Line("Building networks with PyTorch", "203,530 parameters; rows"), Does.EndWith("sum to 1.0000"));
        Assert.That(run.Line("Building networks with PyTorch", "functional:"), Is.EqualTo("functional: 203,530 parameters; output [64, 10]"));
    }

    [Test]
    public void The_784_128_64_10_ReLU_network_has_109386_parameters()
    {
        Assert.That(run.Sections["Activation functions"][0], Is.EqualTo("Mlp("));
        Assert.That(run.Line("Activation functions", "109,386 parameters"), Is.EqualTo("109,386 parameters; probabilities [64, 10]"));
    }

    [Test]
    public void Custom_initialisation_zeroes_the_bias_and_draws_weights_with_std_0_01()
    {
        var line = run.Line("Initializing weights and biases", "fc1.bias all zero:");
        Assert.That(line, Does.StartWith("fc1.bias all zero: True;"));
        Assert.That(Number(line, @"mean (\S+),"), Is.EqualTo(0).Within(0.001));
        Assert.That(Number(line, @"std (\S+)$"), Is.EqualTo(0.01).Within(0.0005));
    }

    [Test]
    public void View_classify_draws_the_untrained_and_the_trained_network()
    {
        var untrained = run.Line("Forward pass", "untrained:");
        Assert.That(Number(untrained, @"highest probability (\S+):"), Is.LessThan(0.5), "an untrained network has no idea");
        Assert.That(run.Line("Forward pass", "after one epoch:"), Does.Match(@"predicted \d with p = [01]\.\d{3}:"));
        foreach (var name in new[] { "view_classify_untrained.png", "view_classify.png" })
        {
            var (width, height, spread) = ReadPng(Path.Combine(figures.Path, name));
            Assert.That((width, height), Is.EqualTo((900, 450)), name);
            Assert.That(spread, Is.GreaterThan(20), name);
        }
    }

    [Test]
    public void Sequential_prints_like_PyTorch_and_is_indexed_by_position_and_by_name()
    {
        var lines = run.Sections["Using nn.Sequential"];
        Assert.That(lines.Take(3), Is.EqualTo(new[] { "Sequential(", "  (0): Linear(in_features=784, out_features=128, bias=True)", "  (1): ReLU()" }));
        Assert.That(run.Line("Using nn.Sequential", "model[0] = "), Is.EqualTo("model[0] = Linear(in_features=784, out_features=128, bias=True), weight [128, 784]; output [64, 10]"));
        Assert.That(lines, Does.Contain("  (fc1): Linear(in_features=784, out_features=128, bias=True)").And.Contain("  (softmax): Softmax(dim=1)"));
        Assert.That(run.Line("Using nn.Sequential", "get_submodule(\"fc1\")"), Does.EndWith("the same object as model[0]: True"));
    }
}

/// <summary>The same example on real MNIST: one epoch of training makes the figure's answer right and confident.</summary>
[Category("Integration")]
public class BuildingNetworksOnRealMnistTests
{
    [Test]
    public void After_one_epoch_the_network_names_the_digit_with_confidence()
    {
        var root = RepoPaths.RequireMnist();
        using var figures = new TempFolder();
        var run = ExampleProgram.Run("BuildingNetworks", figures.Path, root);
        var line = run.Line("Forward pass", "after one epoch:");
        var match = Regex.Match(line, @"label (\d), predicted (\d) with p = (\S+):");
        Assert.That(match.Success, Is.True, line);
        Assert.That(match.Groups[2].Value, Is.EqualTo(match.Groups[1].Value), line);
        Assert.That(double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture), Is.GreaterThan(0.5), line);
    }
}
