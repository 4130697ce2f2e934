using System.Diagnostics;

namespace LeNetTorchSharp.Tests.Onnx;

/// <summary>ONNX's own checker (Debian's python3-onnx, <c>full_check=True</c>): ignored where it is missing, a failure under CI.</summary>
internal static class OnnxChecker
{
    const string Python = "/usr/bin/python3";

    const string Script = """
        import sys, onnx
        model = onnx.load(sys.argv[1])
        onnx.checker.check_model(model, full_check=True)
        print(onnx.__version__)
        """;

    /// <summary>Checks the file; returns ONNX's version, or fails the test with the checker's words.</summary>
    public static string Check(string path)
    {
        var available = File.Exists(Python);
        if (available)
        {
            using var probe = Process.Start(new ProcessStartInfo(Python, ["-c", "import onnx"]) { RedirectStandardError = true })!;
            probe.WaitForExit();
            available = probe.ExitCode == 0;
        }
        if (!available) RepoPaths.Missing("ONNX's checker is missing: apt-get install python3-onnx");
        using var process = Process.Start(new ProcessStartInfo(Python, ["-c", Script, path]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"onnx.checker on {path}: {error.Result}");
        return output.Trim();
    }
}
