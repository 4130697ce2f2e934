namespace LeNetTorchSharp.Models;

/// <summary>The two networks of the tutorial, by name: what a weights file's <see cref="Serialization.ModelCard"/> records.</summary>
public enum ModelKind
{
    /// <summary><c>LeNet</c> with its default sizes, on 32x32 images.</summary>
    LeNet,

    /// <summary><c>Mlp</c> 784-128-64-10 with ReLU, on 28x28 images (flattened by the model).</summary>
    Mlp,
}
