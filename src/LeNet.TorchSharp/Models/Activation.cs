namespace LeNetTorchSharp.Models;

/// <summary>The non-linearity between an <see cref="Mlp"/>'s hidden layers.</summary>
public enum Activation
{
    /// <summary><c>F.relu</c>, the tutorial's 784-128-64-10 network.</summary>
    ReLU,

    /// <summary><c>torch.sigmoid</c>, the tutorial's 784-256-10 network.</summary>
    Sigmoid,

    /// <summary><c>torch.tanh</c>.</summary>
    Tanh,
}
