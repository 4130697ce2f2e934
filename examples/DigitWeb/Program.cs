// Draw a digit, watch the model answer: an ASP.NET Core app over a trained model, with a JSON API.
//   dotnet run -c Release --project examples/DigitWeb -- --model runs/<run>/model.safetensors [--port 5000]
// --model takes what the trainer program's predict takes: a run's weights or checkpoint, PyTorch's .pt, or an .onnx.
using DigitWeb;
using LeNetTorchSharp.Native;

const string Usage = "usage: DigitWeb --model WEIGHTS [--port 5000] [--host 127.0.0.1]";
string? modelPath = null;
var (host, port) = ("127.0.0.1", 5000);
for (var i = 0; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--model" when value is not null: modelPath = value; i++; break;
        case "--host" when value is not null: host = value; i++; break;
        case "--port" when int.TryParse(value, out var p) && p is >= 0 and <= 65535: port = p; i++; break;
        case "--port":
            Console.Error.WriteLine($"error: --port: expected a port number from 0 to 65535; found '{value}'.");
            return 2;
        case "-h" or "--help": Console.WriteLine(Usage); return 0;
        default:
            Console.Error.WriteLine($"error: unknown argument '{args[i]}'. {Usage}");
            return 2;
    }
}
if (modelPath is null)
{
    Console.Error.WriteLine("error: --model is required: train one with `dotnet run -c Release --project examples/TrainMnist` and pass its runs/<run>/model.safetensors (or any weights predict takes, or an .onnx).");
    return 2;
}

DigitModel model;
try
{
    TorchNative.EnsureLoaded();
    model = DigitModel.Load(modelPath);
}
catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException or TorchNativeLoadException)
{
    Console.Error.WriteLine($"error: {e.Message.Split('\n')[0]}");
    return 1;
}
var app = Server.Build(model, $"http://{host}:{port}");
try
{
    await app.StartAsync();
}
catch (IOException e)
{
    Console.Error.WriteLine($"error: cannot listen on {host}:{port}: {e.Message.Split('\n')[0]} (choose another with --port)");
    return 1;
}
Console.WriteLine(Server.Ready(model, Server.Address(app)));
await app.WaitForShutdownAsync();
return 0;
