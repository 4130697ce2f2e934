namespace LeNetTorchSharp.Models;

/// <summary>The networks the trainer can build.</summary>
public enum ModelKind
{
    /// <summary><see cref="Models.LeNet"/>, on 32x32 images.</summary>
    LeNet,

    /// <summary><see cref="Models.Mlp"/> 784-128-64-10, on flattened 28x28 images.</summary>
    Mlp,
}
