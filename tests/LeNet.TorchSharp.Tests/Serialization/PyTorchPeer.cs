using System.Diagnostics;

namespace LeNetTorchSharp.Tests.Serialization;

/// <summary>Runs pytorch_check.py with Debian's PyTorch: ignored where PyTorch is missing, a failure under CI.</summary>
internal static class PyTorchPeer
{
    const string Python = "/usr/bin/python3";

    /// <summary>Runs one mode of the script on <paramref name="folder"/>; returns what it printed.</summary>
    public static string Run(string mode, string folder)
    {
        var script = Path.Combine(AppContext.BaseDirectory, "Serialization", "pytorch_check.py");
        var available = File.Exists(Python);
        if (available)
        {
            using var probe = Process.Start(new ProcessStartInfo(Python, ["-c", "import torch"]) { RedirectStandardError = true })!;
            probe.WaitForExit();
            available = probe.ExitCode == 0;
        }
        if (!available) RepoPaths.Missing("PyTorch for the cross-check is missing: apt-get install python3-torch");
        var start = new ProcessStartInfo(Python, [script, mode, folder]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, error.Result);
        return output.Trim();
    }
}
