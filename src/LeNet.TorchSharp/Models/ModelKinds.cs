using static TorchSharp.torch;

namespace LeNetTorchSharp.Models;

/// <summary>Building and feeding a <see cref="ModelKind"/>.</summary>
public static class ModelKinds
{
    /// <summary>A fresh network of this kind with default sizes and <paramref name="classes"/> outputs.</summary>
    public static nn.Module<Tensor, Tensor> Create(this ModelKind kind, int classes = 10) => kind switch
    {
        ModelKind.LeNet => new LeNet(new LeNetOptions { Classes = classes }),
        ModelKind.Mlp => new Mlp(outputSize: classes),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown model kind."),
    };

    /// <summary>The side of the square images the network takes: 32 for LeNet (MNIST's 28 resized), 28 for the MLP.</summary>
    public static int ImageSize(this ModelKind kind) => Serialization.ModelCard.ImageSize(kind);
}
