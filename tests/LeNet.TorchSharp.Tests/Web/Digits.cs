using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Onnx;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using SkiaSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Web;

/// <summary>Models and pictures for the web app's tests.</summary>
internal static class Digits
{
    public static readonly ModelCard Card = new(ModelKind.LeNet, "MNIST", [.. Enumerable.Range(0, 10).Select(i => i.ToString())], 0.1307, 0.3081);

    /// <summary>A seeded LeNet saved as safetensors and exported as ONNX into <paramref name="folder"/>: (weights, onnx).</summary>
    /// <param name="train">Trains the network and returns its test accuracy, which the card then records.</param>
    public static (string Weights, string Onnx) Model(TempFolder folder, Func<LeNet, double>? train = null)
    {
        manual_seed(11);
        using var net = new LeNet();
        var card = train is null ? Card : Card with { TestAccuracy = train(net) };
        Weights.Save(net, folder.File("lenet.safetensors"), card);
        OnnxExporter.Export(net, folder.File("lenet.onnx"), card);
        return (folder.File("lenet.safetensors"), folder.File("lenet.onnx"));
    }

    /// <summary>A 28x28 MNIST-style image (light ink on black) as the PNG a client would upload, drawn 4x larger.</summary>
    public static byte[] Png(ReadOnlySpan<byte> digit)
    {
        using var bitmap = new SKBitmap(112, 112, SKColorType.Gray8, SKAlphaType.Opaque);
        for (var y = 0; y < 112; y++)
            for (var x = 0; x < 112; x++)
                bitmap.SetPixel(x, y, new SKColor(digit[y / 4 * 28 + x / 4], digit[y / 4 * 28 + x / 4], digit[y / 4 * 28 + x / 4]));
        using var image = SKImage.FromBitmap(bitmap);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>A picture of a "7" drawn in black on white, as the page's canvas sends it.</summary>
    public static byte[] DrawnSeven(SKEncodedImageFormat format = SKEncodedImageFormat.Png)
    {
        using var surface = SKSurface.Create(new SKImageInfo(280, 280));
        surface.Canvas.Clear(SKColors.White);
        using var pen = new SKPaint { Color = SKColors.Black, StrokeWidth = 18, IsAntialias = true, Style = SKPaintStyle.Stroke, StrokeCap = SKStrokeCap.Round };
        surface.Canvas.DrawLine(70, 60, 210, 60, pen);
        surface.Canvas.DrawLine(210, 60, 120, 230, pen);
        using var image = surface.Snapshot();
        using var data = image.Encode(format, 95);
        return data.ToArray();
    }
}
