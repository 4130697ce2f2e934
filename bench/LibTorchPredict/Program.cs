// examples/OnnxInference's twin on libtorch: the same report for weights run by the library's Predictor, so that
// bench/onnx.sh compares ONNX Runtime with the library on the same pictures, the same test set and the same code.
//   dotnet run -c Release --project bench/LibTorchPredict -- --model model.safetensors [--image digit.png]… [--mnist data/mnist]
using System.Diagnostics;
using LeNetTorchSharp.Inference;
using OnnxInference;
using static TorchSharp.torch;

string? modelPath = null, mnist = null;
var images = new List<string>();
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--model": modelPath = args[i + 1]; break;
        case "--image": images.Add(args[i + 1]); break;
        case "--mnist": mnist = args[i + 1]; break;
        default: Console.Error.WriteLine($"error: unknown argument '{args[i]}'"); return 2;
    }
}
if (modelPath is null || args.Length % 2 != 0)
{
    Console.Error.WriteLine("usage: LibTorchPredict --model WEIGHTS [--image PICTURE]... [--mnist FOLDER]");
    return 2;
}
var clock = Stopwatch.StartNew();
using var predictor = Predictor.Load(modelPath);
Console.WriteLine($"{Path.GetFileName(modelPath)}: {predictor.Card.Model} trained on {predictor.Card.Dataset} (libtorch), loaded in {clock.ElapsedMilliseconds} ms");
Report.Print(predictor.Card.Classes, (digits, count) =>
{
    using var batch = tensor(digits, [count, 1, 28, 28]);
    return predictor.Probabilities(batch);
}, images, mnist, Console.Out);
return 0;
