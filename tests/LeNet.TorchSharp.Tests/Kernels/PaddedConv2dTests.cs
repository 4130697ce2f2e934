using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>
/// LeNets of other widths against a float64 LeNet with the same weights: logits, every parameter's gradient and the
/// input's. libtorch 2.10's own float32 convolution got several of these wrong on an AVX-512 CPU (bench/history.md);
/// the library's kernels and its channel padding (<c>PaddedConv2d</c>) must not.
/// </summary>
public class PaddedConv2dTests
{
    static void AssertLikeFloat64(LeNetOptions options)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var net = new LeNet(options);
        using var exact = new LeNet(options with { UseConv1Kernel = false, UseConv2Kernel = false, UseMaxPoolKernel = false });
        exact.load_state_dict(net.state_dict());
        exact.to(ScalarType.Float64);
        var generator = new Generator(5);
        var input = randn([8, options.InputChannels, options.InputSize, options.InputSize], generator: generator);
        var target = randint(0, options.Classes, [8], generator: generator);

        var x = input.clone().requires_grad_(true);
        var logits = net.call(x);
        F.cross_entropy(logits, target).backward();
        var x64 = input.to(ScalarType.Float64).requires_grad_(true);
        var logits64 = exact.call(x64);
        F.cross_entropy(logits64, target).backward();

        var failures = new List<string>();
        void Check(string name, Tensor actual, Tensor expected)
        {
            var error = (actual.to(ScalarType.Float64) - expected).abs().max().item<double>() / expected.abs().max().item<double>();
            if (!(error <= 1e-4)) failures.Add($"{name} {error:E1}");
        }
        Check("logits", logits, logits64);
        foreach (var ((name, p), (_, p64)) in net.named_parameters().Zip(exact.named_parameters()))
            Check($"{name}.grad", p.grad!, p64.grad!);
        Check("input.grad", x.grad!, x64.grad!);
        Assert.That(failures, Is.Empty, $"off from float64 by more than 1e-4 of the largest value: {string.Join(", ", failures)}");
    }

    /// <summary>The padded convolution alone, forward and every gradient, on 240 shapes beyond LeNet's (sizes, kernels,
    /// channel counts on both sides of 16 and 32). A bias gradient is one float32 sum of thousands of terms, so it is held
    /// to 1e-3 of its largest value; the rest to 1e-4.</summary>
    [Test]
    public void The_padded_convolution_matches_float64_on_a_sweep_of_shapes()
    {
        var failures = new List<string>();
        foreach (var size in new[] { 14, 28 })
        foreach (var kernel in new[] { 3, 5 })
        foreach (var inChannels in new[] { 1, 5, 6, 16, 17, 20, 24, 31, 33, 40 })
        foreach (var outChannels in new[] { 1, 6, 12, 16, 20, 32 })
        {
            using var scope = NewDisposeScope();
            var generator = new Generator((ulong)(size * 100_000 + kernel * 10_000 + inChannels * 100 + outChannels));
            var input = randn([7, inChannels, size, size], generator: generator);
            var weight = randn([outChannels, inChannels, kernel, kernel], generator: generator);
            var bias = randn([outChannels], generator: generator);
            var gradOutput = randn([7, outChannels, size - kernel + 1, size - kernel + 1], generator: generator);
            Tensor[] Run(Func<Tensor, Tensor, Tensor, Tensor> conv, ScalarType type)
            {
                // Fresh leaves for each run (to() of the same type returns the tensor itself).
                var x = input.to(type).detach().requires_grad_(true);
                var w = weight.to(type).detach().requires_grad_(true);
                var b = bias.to(type).detach().requires_grad_(true);
                var output = conv(x, w, b);
                output.backward([gradOutput.to(type)]);
                return [output.detach(), x.grad!, w.grad!, b.grad!];
            }
            var actual = Run((x, w, b) => LeNetTorchSharp.Kernels.PaddedConv2d.Conv(x, w, b), ScalarType.Float32);
            var exact = Run((x, w, b) => F.conv2d(x, w, b), ScalarType.Float64);
            string[] names = ["output", "input gradient", "weight gradient", "bias gradient"];
            for (var i = 0; i < names.Length; i++)
            {
                var error = (actual[i].to(ScalarType.Float64) - exact[i]).abs().max().item<double>() / exact[i].abs().max().item<double>();
                if (!(error <= (i == 3 ? 1e-3 : 1e-4)))
                    failures.Add($"{size}x{size}, {kernel}x{kernel}, {inChannels} -> {outChannels}: {names[i]} {error:E1}");
            }
        }
        Assert.That(failures, Is.Empty);
    }

    [TestCase(6)]
    [TestCase(9)]
    [TestCase(12)]
    [TestCase(17)]
    [TestCase(20)]
    [TestCase(24)]
    [TestCase(31)]
    [TestCase(32)]
    [TestCase(40)]
    public void LeNet_of_any_conv1_width_computes_its_logits_and_gradients_right(int channels)
    {
        AssertLikeFloat64(new LeNetOptions { Conv1Channels = channels });
        AssertLikeFloat64(new LeNetOptions { Conv1Channels = channels, UseConv1Kernel = false, UseConv2Kernel = false });
    }

    [TestCase(8)]
    [TestCase(12)]
    [TestCase(17)]
    [TestCase(20)]
    [TestCase(24)]
    [TestCase(32)]
    public void LeNet_of_any_conv2_width_computes_its_logits_and_gradients_right(int channels)
    {
        AssertLikeFloat64(new LeNetOptions { Conv2Channels = channels });
        AssertLikeFloat64(new LeNetOptions { Conv2Channels = channels, UseConv1Kernel = false, UseConv2Kernel = false });
    }

    [TestCase(3)]
    [TestCase(20)]
    public void LeNet_of_several_input_channels_computes_its_logits_and_gradients_right(int channels)
    {
        AssertLikeFloat64(new LeNetOptions { InputChannels = channels, Conv1Channels = 20 });
        AssertLikeFloat64(new LeNetOptions { InputChannels = channels, UseConv1Kernel = false, UseConv2Kernel = false });
    }
}
