namespace LeNetTorchSharp.Tests.Onnx;

/// <summary>ONNX's own checker (Debian's python3-onnx, <c>full_check=True</c>): ignored where it is missing, a failure under CI.</summary>
internal static class OnnxChecker
{
    const string Script = """
        import sys, onnx
        model = onnx.load(sys.argv[1])
        onnx.checker.check_model(model, full_check=True)
        print(onnx.__version__)
        """;

    /// <summary>Checks the file; returns ONNX's version, or fails the test with the checker's words.</summary>
    public static string Check(string path) => Python.Run("onnx", "python3-onnx", "-c", Script, path);
}
