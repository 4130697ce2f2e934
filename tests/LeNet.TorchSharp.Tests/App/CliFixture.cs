using LeNetTorchSharp.Tests.Data;

namespace LeNetTorchSharp.Tests.App;

/// <summary>
/// The trainer program called in-process on a small synthetic MNIST in a temporary folder, with an empty run
/// folder beside it: what <see cref="CliTests"/> and <see cref="BadInputTests"/> share.
/// </summary>
public abstract class CliFixture
{
    private protected TempFolder data = null!;
    private protected TempFolder run = null!;

    [SetUp]
    public void CreateData()
    {
        data = new TempFolder();
        run = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
    }

    [TearDown]
    public void DeleteData()
    {
        data.Dispose();
        run.Dispose();
    }

    /// <summary>Runs the program with <paramref name="args"/>: its exit code, what it printed, and its error lines.</summary>
    protected static (int Exit, string Out, string[] Errors) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var exit = TrainMnist.Cli.Run(args, stdout, stderr, interactive: false);
        return (exit, stdout.ToString(), stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
