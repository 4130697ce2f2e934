using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using SkiaSharp;
using static TorchSharp.torch;

var net = new LeNet();
Console.WriteLine(net);

// A picture of a digit, drawn and read back through the package's own image decoding (SkiaSharp comes with it).
var png = Path.Combine(Path.GetTempPath(), $"consumer-digit-{Environment.ProcessId}.png");
using (var surface = SKSurface.Create(new SKImageInfo(64, 64)))
{
    surface.Canvas.Clear(SKColors.White);
    using var pen = new SKPaint { Color = SKColors.Black, StrokeWidth = 8, IsAntialias = true };
    surface.Canvas.DrawLine(32, 8, 32, 56, pen);
    using var image = surface.Snapshot();
    using var data = image.Encode(SKEncodedImageFormat.Png, 100);
    File.WriteAllBytes(png, data.ToArray());
}
using (var digit = DigitImage.Load(png))
    Console.WriteLine($"digit [{string.Join(", ", digit.shape)}]");
File.Delete(png);

using var trainer = new Trainer(net, optim.SGD(net.parameters(), 0.01, momentum: 0.9));
var x = randn(64, 1, 32, 32);
var y = randint(0, 10, [64]);
for (var i = 0; i < 3; i++)
    Console.WriteLine(trainer.Step(x, y).item<float>());
