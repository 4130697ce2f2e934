using LeNetTorchSharp.Data;

namespace TrainMnist;

/// <summary>The MNIST-format datasets the trainer knows (<c>--dataset</c>).</summary>
public enum DatasetKind
{
    /// <summary>Handwritten digits (<see cref="MnistResources.Mnist"/>).</summary>
    Mnist,

    /// <summary>Zalando's clothing images (<see cref="MnistResources.FashionMnist"/>).</summary>
    FashionMnist,
}

/// <summary>Resources by <see cref="DatasetKind"/>.</summary>
public static class DatasetKinds
{
    /// <summary>The files, mirrors and class names of <paramref name="kind"/>.</summary>
    public static MnistResources Resources(this DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => MnistResources.Mnist,
        DatasetKind.FashionMnist => MnistResources.FashionMnist,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown dataset."),
    };
}
