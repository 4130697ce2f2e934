using System.Diagnostics;

namespace LeNetTorchSharp.Tests;

/// <summary>Debian's Python, for the peers that check our files (PyTorch, ONNX's checker).</summary>
internal static class Python
{
    const string Executable = "/usr/bin/python3";

    /// <summary>Runs <paramref name="args"/> with Python after checking that <paramref name="module"/> imports (ignored
    /// where it does not, a failure under CI); fails the test unless it exits 0; returns what it printed.</summary>
    public static string Run(string module, string package, params string[] args)
    {
        var available = File.Exists(Executable);
        if (available)
        {
            using var probe = Process.Start(new ProcessStartInfo(Executable, ["-c", $"import {module}"]) { RedirectStandardError = true })!;
            probe.WaitForExit();
            available = probe.ExitCode == 0;
        }
        if (!available) RepoPaths.Missing($"Python's {module} is missing: apt-get install {package}");
        using var process = Process.Start(new ProcessStartInfo(Executable, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"python3 {string.Join(" ", args)}: {error.Result}");
        return output.Trim();
    }
}
