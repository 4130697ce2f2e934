using TorchSharp;
using static TorchSharp.torch;
using TorchF = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Models;

/// <summary>
/// The <c>torch.nn.functional</c> operations this library's models use, each recorded in the active
/// <see cref="OperationTrace"/> (if any) so a traced forward pass shows them. Outside a trace they are
/// exactly TorchSharp's functions.
/// </summary>
public static class Functional
{
    /// <summary><c>F.relu</c>.</summary>
    public static Tensor relu(Tensor input) => OperationTrace.Note("relu", TorchF.relu(input));

    /// <summary><c>torch.sigmoid</c>.</summary>
    public static Tensor sigmoid(Tensor input) => OperationTrace.Note("sigmoid", torch.sigmoid(input));

    /// <summary><c>torch.tanh</c>.</summary>
    public static Tensor tanh(Tensor input) => OperationTrace.Note("tanh", torch.tanh(input));

    /// <summary>
    /// <c>F.max_pool2d</c> with a square window and stride equal to it. A 2x2 window on the CPU goes to
    /// <see cref="MaxPool2x2"/>: the same values and gradients as libtorch's, several times faster.
    /// </summary>
    public static Tensor max_pool2d(Tensor input, long kernelSize) => OperationTrace.Note("max_pool2d",
        kernelSize == 2 && MaxPool2x2.Handles(input) ? MaxPool2x2.Apply(input) : TorchF.max_pool2d(input, [kernelSize, kernelSize]));

    /// <summary><c>torch.flatten(input, start_dim)</c>.</summary>
    public static Tensor flatten(Tensor input, long startDim) => OperationTrace.Note("flatten", torch.flatten(input, startDim));
}
