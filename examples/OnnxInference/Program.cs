// A trained LeNet.TorchSharp model, exported to ONNX, deployed with ONNX Runtime alone: no TorchSharp, no libtorch.
//   dotnet run -c Release --project examples/OnnxInference -- --model model.onnx [--image digit.png]… [--mnist data/mnist]
// The model card in the file's metadata says how to prepare a picture (the model's image size, the normalization) and
// names the classes; LeNet.TorchSharp.OnnxRuntime reads it and prepares pictures exactly as the library does.
using System.Diagnostics;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.OnnxRuntime;
using OnnxInference;

const string Usage = "usage: OnnxInference --model MODEL.onnx [--image PICTURE]... [--mnist FOLDER]";
string? modelPath = null, mnist = null;
var images = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--model" when value is not null: modelPath = value; i++; break;
        case "--image" when value is not null: images.Add(value); i++; break;
        case "--mnist" when value is not null: mnist = value; i++; break;
        case "-h" or "--help": Console.WriteLine(Usage); return 0;
        default:
            Console.Error.WriteLine($"error: {(value is null && args[i].StartsWith("--") ? $"{args[i]}: expected a value after it" : $"unknown argument '{args[i]}'")}. {Usage}");
            return 2;
    }
}
if (modelPath is null)
{
    Console.Error.WriteLine($"error: --model is required. {Usage}");
    return 2;
}

try
{
    var clock = Stopwatch.StartNew();
    using var model = OnnxPredictor.Load(modelPath);
    var card = model.Card;
    Console.WriteLine($"{Path.GetFileName(modelPath)}: {card.Model} trained on {card.Dataset} (ONNX opset {model.Opset}, input N x " +
        $"{string.Join(" x ", model.InputShape)}, {card.Classes.Count} classes), loaded in {clock.ElapsedMilliseconds} ms");
    Report.Print(card.Classes, (digits, count) => model.Probabilities(digits, count), images, mnist, Console.Out);
    return 0;
}
catch (Exception e) when (e is OnnxModelException or ImageInputException or DatasetException or InvalidOperationException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
