namespace LeNetTorchSharp.Tests.Serialization;

/// <summary>Runs pytorch_check.py with Debian's PyTorch: ignored where PyTorch is missing, a failure under CI.</summary>
internal static class PyTorchPeer
{
    /// <summary>Runs one mode of the script on <paramref name="folder"/>; returns what it printed.</summary>
    public static string Run(string mode, string folder) =>
        Python.Run("torch", "python3-torch", Path.Combine(AppContext.BaseDirectory, "Serialization", "pytorch_check.py"), mode, folder);
}
