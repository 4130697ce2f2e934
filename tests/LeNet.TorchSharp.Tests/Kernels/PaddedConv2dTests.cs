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
