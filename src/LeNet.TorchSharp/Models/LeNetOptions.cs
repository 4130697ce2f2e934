namespace LeNetTorchSharp.Models;

/// <summary>
/// The sizes of a <see cref="LeNet"/>. The defaults are the tutorial's network; the tutorial's variants
/// are <c>new LeNetOptions { KernelSize = 3 }</c> (then <c>fc1</c> takes 16*6*6 = 576 inputs) and
/// <c>new LeNetOptions { Fc1 = 1200, Fc2 = 84 }</c>.
/// </summary>
public sealed record LeNetOptions
{
    /// <summary>Side of the square kernels of <c>conv1</c> and <c>conv2</c> (5 in the tutorial, or 3).</summary>
    public int KernelSize { get; init; } = 5;

    /// <summary>Output channels of <c>conv1</c>.</summary>
    public int Conv1Channels { get; init; } = 6;

    /// <summary>Output channels of <c>conv2</c>.</summary>
    public int Conv2Channels { get; init; } = 16;

    /// <summary>Width of <c>fc1</c>'s output.</summary>
    public int Fc1 { get; init; } = 120;

    /// <summary>Width of <c>fc2</c>'s output.</summary>
    public int Fc2 { get; init; } = 84;

    /// <summary>Number of classes, the width of <c>fc3</c>'s output (the logits).</summary>
    public int Classes { get; init; } = 10;

    /// <summary>Input channels (1 for MNIST's grayscale images).</summary>
    public int InputChannels { get; init; } = 1;

    /// <summary>Side of the square input image: 32 (MNIST's 28x28 resized, as the tutorial expects).</summary>
    public int InputSize { get; init; } = 32;

    /// <summary>
    /// Whether the two 2x2 max-pools run on this library's vectorized CPU kernel (float32 on x64 with AVX2; the
    /// same bits as libtorch's, faster) or always on libtorch's <c>max_pool2d</c>. Turn it off to compare, or to rule
    /// the kernel out when chasing a problem; it changes this model only.
    /// </summary>
    public bool UseMaxPoolKernel { get; init; } = true;

    /// <summary>
    /// Whether <c>conv1</c> runs on this library's vectorized CPU kernel, its gradients included (float32 on x64 with AVX2
    /// on Linux, no hooks on <c>conv1</c>; libtorch's values to float rounding, faster, and a right input gradient where
    /// libtorch 2.10's is wrong) or always on libtorch's convolution. Turn it off to compare, or to rule the kernel out
    /// when chasing a problem; it changes this model only.
    /// </summary>
    public bool UseConv1Kernel { get; init; } = true;

    /// <summary>
    /// Whether <c>conv2</c>'s gradients come from this library's vectorized CPU kernels (float32 on x64 with AVX2, 16
    /// output channels and 5x5 kernels as in the tutorial, no hooks on <c>conv2</c>; the input's gradient too where .NET
    /// runs AVX-512 and the input is at most 16 wide; libtorch's values to float rounding, faster), its forward pass
    /// staying libtorch's, or all from libtorch's convolution. Turn it off to compare, or to rule the kernels out when
    /// chasing a problem; it changes this model only.
    /// </summary>
    public bool UseConv2Kernel { get; init; } = true;

    /// <summary>
    /// Whether the fully connected layers run on this library's 512-bit CPU kernel where it applies (float32 on x64 with
    /// AVX-512 on Linux, a layer of at least 32,768 weights, which is <c>fc1</c> at the tutorial's widths, no hooks;
    /// libtorch's values to float rounding, faster than MKL's 256-bit code on AMD CPUs) or always on libtorch's. Turn it
    /// off to compare, or to rule the kernel out when chasing a problem; it changes this model only.
    /// </summary>
    public bool UseLinearKernel { get; init; } = true;

    /// <summary>Side of the feature map after conv → 2x2 pool → conv → 2x2 pool.</summary>
    internal int FeatureSize => ((InputSize - KernelSize + 1) / 2 - KernelSize + 1) / 2;

    internal void Validate()
    {
        Positive(KernelSize, nameof(KernelSize));
        Positive(Conv1Channels, nameof(Conv1Channels));
        Positive(Conv2Channels, nameof(Conv2Channels));
        Positive(Fc1, nameof(Fc1));
        Positive(Fc2, nameof(Fc2));
        Positive(Classes, nameof(Classes));
        Positive(InputChannels, nameof(InputChannels));
        Positive(InputSize, nameof(InputSize));
        if ((InputSize - KernelSize + 1) / 2 - KernelSize + 1 < 2)
            throw new ArgumentException(
                $"LeNetOptions: an input of {InputSize}x{InputSize} is too small for two {KernelSize}x{KernelSize} convolutions each followed by a 2x2 pool.",
                nameof(InputSize));
    }

    static void Positive(int value, string name)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(name, value, $"LeNetOptions.{name} must be positive; found {value}.");
    }
}
