namespace LeNetTorchSharp.Tests;

/// <summary>Locations in the repository the tests run from.</summary>
internal static class RepoPaths
{
    /// <summary>The folder holding LeNet.TorchSharp.sln, found by walking up from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>data/mnist, where data/get-mnist.sh puts the real files.</summary>
    public static string Mnist => Path.Combine(Root, "data", "mnist");

    /// <summary>
    /// The real MNIST folder; the test is ignored where it is absent, except under CI (CI=true),
    /// which fetches the data first, so there its absence fails.
    /// </summary>
    public static string RequireMnist()
    {
        if (File.Exists(Path.Combine(Mnist, "train-images-idx3-ubyte")) || File.Exists(Path.Combine(Mnist, "train-images-idx3-ubyte.gz")))
            return Mnist;
        Missing($"real MNIST is not in {Mnist}: run `bash data/get-mnist.sh`");
        return Mnist;
    }

    /// <summary>
    /// A test's outside requirement (data, a PyTorch peer) is absent: ignored on a developer's machine,
    /// a failure under CI (CI=true), whose script installs every requirement first.
    /// </summary>
    public static void Missing(string message)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail(message + " (CI installs it before the tests)");
        Assert.Ignore(message);
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LeNet.TorchSharp.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"LeNet.TorchSharp.sln not found above {AppContext.BaseDirectory}");
    }
}
