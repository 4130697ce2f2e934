using System.Globalization;

namespace LeNetTorchSharp.Models;

/// <summary>Scalar parameter counts of a module: all of them, and those that <c>requires_grad</c>.</summary>
public readonly record struct ParameterCount(long Total, long Trainable)
{
    /// <summary>Parameters excluded from training (frozen).</summary>
    public long NonTrainable => Total - Trainable;

    /// <summary>The counts as torchsummary prints them, e.g. <c>Total params: 61,706</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"Total params: {Total:N0}\nTrainable params: {Trainable:N0}\nNon-trainable params: {NonTrainable:N0}");
}
