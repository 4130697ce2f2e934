using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>Applies transforms in order, like torchvision's <c>transforms.Compose</c>.</summary>
public sealed class Compose(params ITransform[] transforms) : ITransform
{
    /// <summary>The transforms, in the order they are applied.</summary>
    public IReadOnlyList<ITransform> Transforms { get; } = transforms;

    /// <inheritdoc/>
    public Tensor Apply(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = images;
        foreach (var t in Transforms) x = t.Apply(x);
        return ReferenceEquals(x, images) ? images.alias().MoveToOuterDisposeScope() : x.MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override string ToString() => $"Compose({string.Join(", ", Transforms)})";
}
