using LeNetTorchSharp.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Models;

/// <summary>
/// LeNet as in PyTorch's "Neural Networks" tutorial: two convolutions, each followed by ReLU and a
/// 2x2 max-pool, then three fully connected layers. Input N x 1 x 32 x 32; output N x 10 logits.
/// </summary>
/// <remarks>
/// The fields carry PyTorch's names, so <c>named_parameters()</c> and <c>state_dict()</c> keys are
/// <c>conv1.weight</c>, <c>conv1.bias</c>, … <c>fc3.bias</c>, the keys of the tutorial's <c>Net</c>.
/// </remarks>
public sealed class LeNet : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch's names: they become the state_dict keys.
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear fc1;
    private readonly Linear fc2;
    private readonly Linear fc3;
#pragma warning restore IDE1006

    /// <summary>The sizes this network was built with.</summary>
    public LeNetOptions Options { get; }

    /// <summary>Builds the network; <paramref name="options"/> defaults to the tutorial's sizes.</summary>
    public LeNet(LeNetOptions? options = null) : base(nameof(LeNet))
    {
        Options = options ?? new LeNetOptions();
        Options.Validate();
        var o = Options;

        conv1 = Conv2d(o.InputChannels, o.Conv1Channels, o.KernelSize);
        conv2 = Conv2d(o.Conv1Channels, o.Conv2Channels, o.KernelSize);
        // fc1 takes what is left after two convolutions and two pools: 16 channels of 5x5 by default.
        fc1 = Linear(o.Conv2Channels * o.FeatureSize * o.FeatureSize, o.Fc1);
        fc2 = Linear(o.Fc1, o.Fc2);
        fc3 = Linear(o.Fc2, o.Classes);
        RegisterComponents();
    }

    /// <summary>Logits for a batch of images.</summary>
    /// <param name="input">N x C x H x W, with C, H, W as in <see cref="Options"/> (1 x 32 x 32 by default).</param>
    /// <returns>N x classes logits (no softmax: pair with cross-entropy).</returns>
    /// <exception cref="ArgumentException">The input is not N x C x H x W with the expected C, H, W.</exception>
    public override Tensor forward(Tensor input)
    {
        InputShape.Check(input, nameof(LeNet), conv1.weight!.dtype, [-1, Options.InputChannels, Options.InputSize, Options.InputSize],
            "a single image needs a batch dimension: image.unsqueeze(0)");

        // Layers are invoked with call(), PyTorch's __call__: it runs forward hooks, then forward. conv(layer, x) is
        // layer.call(x) on this library's convolution kernels where they apply, or on libtorch with channels padded
        // where libtorch gets them wrong; linear(layer, x) is layer.call(x) on its fully connected kernel where it
        // applies; a layer with hooks takes call() itself.
        // The tutorial's F.max_pool2d(F.relu(conv(x)), 2), pooled first: ReLU keeps order and clamps a window's
        // maximum as it clamps each element, so the values and the gradients are the same bits, and the ReLU
        // touches a quarter of the elements.
        var c1 = conv(conv1, input);              // N x 6 x 28 x 28
        var s2 = F.relu(max_pool2d(c1));          // N x 6 x 14 x 14
        var c3 = conv(conv2, s2);                 // N x 16 x 10 x 10
        var s4 = F.relu(max_pool2d(c3));          // N x 16 x 5 x 5
        var flat = torch.flatten(s4, 1);          // N x 400
        var f5 = F.relu(linear(fc1, flat));       // N x 120
        var f6 = F.relu(linear(fc2, f5));         // N x 84
        return linear(fc3, f6);                   // N x 10
    }

    /// <summary><c>layer(x)</c> for <c>fc1</c>–<c>fc3</c>, on this library's CPU kernel where it applies unless
    /// <see cref="LeNetOptions.UseLinearKernel"/> is off (<see cref="LinearFunction"/>).</summary>
    Tensor linear(Linear layer, Tensor x) => Options.UseLinearKernel ? LinearFunction.Forward(layer, x) : layer.call(x);

    /// <summary><c>conv1(x)</c> or <c>conv2(x)</c>, with this library's CPU kernels where they apply (conv1 whole, conv2's
    /// weight gradient) unless <see cref="LeNetOptions.UseConv1Kernel"/> or <see cref="LeNetOptions.UseConv2Kernel"/> is off;
    /// otherwise libtorch's, its channels padded where libtorch 2.10 computes them wrong (<see cref="PaddedConv2d"/>).</summary>
    Tensor conv(Conv2d layer, Tensor x) =>
        layer == conv1 && Options.UseConv1Kernel ? InputConv2d.Forward(layer, x)
        : layer == conv2 && Options.UseConv2Kernel ? Conv2Gradients.Forward(layer, x)
        : PaddedConv2d.Forward(layer, x);

    /// <summary><c>F.max_pool2d(x, 2)</c>, on this library's CPU kernel unless <see cref="LeNetOptions.UseMaxPoolKernel"/> is off.</summary>
    Tensor max_pool2d(Tensor x) => Options.UseMaxPoolKernel ? MaxPool2x2.Forward(x) : F.max_pool2d(x, 2);

    /// <summary>The PyTorch-style structure, as <c>print(net)</c> shows it.</summary>
    public override string ToString() => this.Summary();
}
