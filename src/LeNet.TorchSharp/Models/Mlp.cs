using LeNetTorchSharp.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using F = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Models;

/// <summary>
/// A fully connected network for flattened 28x28 images, as in the tutorial's "Building networks with nn":
/// by default 784-128-64-10 with ReLU (layers <c>fc1</c>, <c>fc2</c>, <c>fc3</c>), logits out.
/// <c>new Mlp(hidden: [256], activation: Activation.Sigmoid)</c> is the tutorial's 784-256-10 network.
/// </summary>
/// <remarks>Layer <c>i</c> (from 1) is registered as <c>fc{i}</c>, so parameter names are PyTorch's
/// <c>fc1.weight</c>, <c>fc1.bias</c>, ….</remarks>
public sealed class Mlp : Module<Tensor, Tensor>
{
    private readonly Linear[] layers;

    /// <summary>Inputs per sample (784 for MNIST).</summary>
    public int InputSize { get; }

    /// <summary>Widths of the hidden layers, in order.</summary>
    public IReadOnlyList<int> HiddenSizes { get; }

    /// <summary>Outputs per sample (the number of classes).</summary>
    public int OutputSize { get; }

    /// <summary>The non-linearity after each hidden layer.</summary>
    public Activation Activation { get; }

    /// <summary>
    /// Whether the network runs on this library's 512-bit CPU kernel (<c>Kernels/</c>) where it applies: a ReLU network
    /// whole, every layer and ReLU in one autograd function; with another activation, or a hook on a layer, layer by
    /// layer, the layers of at least 32,768 weights (<c>fc1</c> at the tutorial's widths) on the kernel. Float32 on an x64
    /// CPU with AVX-512, on Linux; libtorch's otherwise.
    /// </summary>
    /// <remarks>On by default: MKL, libtorch's matrix library, runs 256-bit code on AMD CPUs, fc1's products are most of
    /// an MLP step's arithmetic, and the small layers' libtorch operations cost more than their arithmetic. Values agree
    /// with libtorch's to float rounding, not to the bit; <c>false</c> gives libtorch's own.</remarks>
    public bool UseLinearKernel { get; init; } = true;

    /// <summary>Builds the network.</summary>
    /// <param name="inputSize">Inputs per sample; 784 = 28*28.</param>
    /// <param name="hidden">Hidden widths; <c>null</c> means the tutorial's [128, 64]; empty means a single linear layer.</param>
    /// <param name="outputSize">Number of classes.</param>
    /// <param name="activation">Non-linearity after each hidden layer.</param>
    public Mlp(int inputSize = 784, IReadOnlyList<int>? hidden = null, int outputSize = 10, Activation activation = Activation.ReLU)
        : base(nameof(Mlp))
    {
        HiddenSizes = (hidden ?? [128, 64]).ToArray();
        if (inputSize <= 0) throw new ArgumentOutOfRangeException(nameof(inputSize), inputSize, $"inputSize must be positive; found {inputSize}.");
        if (outputSize <= 0) throw new ArgumentOutOfRangeException(nameof(outputSize), outputSize, $"outputSize must be positive; found {outputSize}.");
        foreach (var width in HiddenSizes)
            if (width <= 0) throw new ArgumentOutOfRangeException(nameof(hidden), width, $"every hidden width must be positive; found {width}.");
        if (!Enum.IsDefined(activation)) throw new ArgumentOutOfRangeException(nameof(activation), activation, "unknown activation.");

        InputSize = inputSize;
        OutputSize = outputSize;
        Activation = activation;

        int[] widths = [inputSize, .. HiddenSizes, outputSize];
        layers = new Linear[widths.Length - 1];
        for (var i = 0; i < layers.Length; i++)
        {
            layers[i] = Linear(widths[i], widths[i + 1]);
            register_module($"fc{i + 1}", layers[i]);
        }
    }

    /// <summary>Logits for a batch.</summary>
    /// <param name="input">N x 784, or N x 1 x 28 x 28 images (flattened here).</param>
    /// <returns>N x <see cref="OutputSize"/> logits.</returns>
    /// <exception cref="ArgumentException">The input is neither N x InputSize nor N x 1 x H x W with H*W = InputSize.</exception>
    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var x = input.dim() == 4 && input.shape[1] == 1 && input.shape[2] * input.shape[3] == InputSize
            ? torch.flatten(input, 1)
            : input;
        InputShape.Check(x, nameof(Mlp), layers[0].weight!.dtype, [-1, InputSize],
            InputSize == 784 ? "or N x 1 x 28 x 28 images, which are flattened" : null);

        // A ReLU network runs whole on the library's kernel where it applies: one autograd function for every layer.
        if (UseLinearKernel && Activation == Activation.ReLU && MlpFunction.Handles(x, layers))
            return MlpFunction.Apply(x, layers);
        for (var i = 0; i < layers.Length - 1; i++)
            x = Activate(linear(layers[i], x));
        return linear(layers[^1], x);
    }

    Tensor linear(Linear layer, Tensor x) => UseLinearKernel ? LinearFunction.Forward(layer, x) : layer.call(x);

    Tensor Activate(Tensor x) => Activation switch
    {
        Activation.ReLU => F.relu(x),
        Activation.Sigmoid => torch.sigmoid(x),
        Activation.Tanh => torch.tanh(x),
        _ => throw new InvalidOperationException($"unknown activation {Activation}"),
    };

    /// <summary>The PyTorch-style structure, as <c>print(model)</c> shows it.</summary>
    public override string ToString() => this.Summary();
}
