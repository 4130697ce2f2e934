using System.Diagnostics;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.OnnxRuntime;
using LeNetTorchSharp.Serialization;
using static TorchSharp.torch;

namespace DigitWeb;

/// <summary>
/// The model every request shares: weights on the library and libtorch, or an exported <c>.onnx</c> on ONNX Runtime.
/// </summary>
/// <remarks>
/// Pictures are decoded and turned into digits by each request on its own thread. The forward pass is shared so:
/// ONNX Runtime's <c>Run</c> is documented safe to call from many threads on one session, so ONNX models answer
/// requests concurrently; the libtorch model answers one request at a time behind a lock, since libtorch's own
/// threads already use every core for one forward pass and a TorchSharp module is not documented as safe to call
/// from several threads at once.
/// </remarks>
public sealed class DigitModel : IDisposable
{
    readonly Predictor? torch;
    readonly OnnxPredictor? onnx;
    readonly Lock forward = new();

    /// <summary>The file the model came from.</summary>
    public string File { get; }

    /// <summary>What runs it: "libtorch" or "ONNX Runtime".</summary>
    public string Runtime => onnx is null ? "libtorch" : "ONNX Runtime";

    /// <summary>The architecture, classes and normalization.</summary>
    public ModelCard Card => onnx?.Card ?? torch!.Card;

    /// <summary>The model's parameters.</summary>
    public long Parameters { get; }

    DigitModel(string file, Predictor? torch, OnnxPredictor? onnx)
    {
        File = file;
        this.torch = torch;
        this.onnx = onnx;
        Parameters = onnx?.ParameterCount ?? torch!.Model.parameters().Sum(p => p.numel());
    }

    /// <summary>Loads what the trainer program's <c>predict</c> takes: a run's weights or checkpoint, PyTorch's
    /// <c>.pt</c> / <c>.pth</c>, safetensors, or an exported <c>.onnx</c>.</summary>
    public static DigitModel Load(string path) =>
        Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase)
            ? new DigitModel(path, null, OnnxPredictor.Load(path))
            : new DigitModel(path, Predictor.Load(path), null);

    /// <summary>One picture classified: the 28x28 digit the model saw, the class probabilities, the milliseconds taken.</summary>
    /// <exception cref="ImageInputException">The picture is not an image, damaged, or blank.</exception>
    public (byte[] Digit, float[] Probabilities, double Milliseconds) Classify(byte[] encoded)
    {
        var clock = Stopwatch.StartNew();
        var digit = MnistDigit.FromImage(encoded, "the picture");
        float[] probabilities;
        if (onnx is not null)
            probabilities = onnx.Probabilities(digit, 1);
        else
            lock (forward)
            {
                using var scope = NewDisposeScope();
                probabilities = torch!.Probabilities(tensor(digit, [1, 28, 28]));
            }
        return (digit, probabilities, clock.Elapsed.TotalMilliseconds);
    }

    /// <summary>Releases the model.</summary>
    public void Dispose()
    {
        torch?.Dispose();
        onnx?.Dispose();
    }
}
