using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using LeNetTorchSharp.Plots;
using SkiaSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Inference;

public class DigitImageTests
{
    /// <summary>Draws <paramref name="text"/> large, off-centre, on a canvas much bigger than 28x28.</summary>
    static string Render(TempFolder folder, string text, SKColor ink, SKColor paper, string name = "digit.png")
    {
        using var surface = SKSurface.Create(new SKImageInfo(300, 220));
        surface.Canvas.Clear(paper);
        using var font = new SKFont(SKTypeface.Default, 160);
        using var paint = new SKPaint { Color = ink, IsAntialias = true };
        surface.Canvas.DrawText(text, 40, 180, font, paint);
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        var path = folder.File(name);
        File.WriteAllBytes(path, png.ToArray());
        return path;
    }

    static (double Row, double Col) CentreOfMass(Tensor digit)
    {
        var x = digit.squeeze(0).to(ScalarType.Float32);
        var total = x.sum().item<float>();
        var row = (x.sum(dim: 1) * arange(28, dtype: ScalarType.Float32)).sum().item<float>() / total;
        var col = (x.sum(dim: 0) * arange(28, dtype: ScalarType.Float32)).sum().item<float>() / total;
        return (row, col);
    }

    [Test]
    public void A_rendered_dark_on_light_digit_becomes_a_light_on_black_28x28_digit_fitted_in_20x20_and_centred_by_mass()
    {
        using var temp = new TempFolder();
        var digit = DigitImage.Load(Render(temp, "7", SKColors.Black, SKColors.White));

        Assert.That(digit.shape, Is.EqualTo(new long[] { 1, 28, 28 }));
        Assert.That(digit.dtype, Is.EqualTo(ScalarType.Byte));
        Assert.That(digit.max().item<byte>(), Is.EqualTo(255));
        Assert.That(digit[0, 0, 0].item<byte>(), Is.Zero, "background is black");
        var ink = digit.squeeze(0).gt(0);
        var rows = ink.any(dim: 1).nonzero().flatten();
        var cols = ink.any(dim: 0).nonzero().flatten();
        var height = rows.max().item<long>() - rows.min().item<long>() + 1;
        var width = cols.max().item<long>() - cols.min().item<long>() + 1;
        Assert.That(Math.Max(height, width), Is.InRange(19, 21), "the digit's longer side fills 20 pixels");
        var (row, col) = CentreOfMass(digit);
        Assert.That(row, Is.EqualTo(14).Within(1));
        Assert.That(col, Is.EqualTo(14).Within(1));
    }

    [Test]
    public void Light_on_dark_and_dark_on_light_pictures_give_the_same_digit()
    {
        using var temp = new TempFolder();
        var paper = Render(temp, "4", SKColors.Black, SKColors.White, "a.png");
        // The negative of the same picture (not a second rendering: Skia's text antialiasing is not symmetric).
        using (var bitmap = SKBitmap.Decode(paper))
        {
            for (var y = 0; y < bitmap.Height; y++)
                for (var x = 0; x < bitmap.Width; x++)
                {
                    var c = bitmap.GetPixel(x, y);
                    bitmap.SetPixel(x, y, new SKColor((byte)(255 - c.Red), (byte)(255 - c.Green), (byte)(255 - c.Blue)));
                }
            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(temp.File("b.png"), png.ToArray());
        }
        var onPaper = DigitImage.Load(paper);
        var onBlack = DigitImage.Load(temp.File("b.png"));
        Assert.That((onPaper.to(ScalarType.Int32) - onBlack.to(ScalarType.Int32)).abs().max().item<int>(), Is.LessThanOrEqualTo(2));
    }

    [Test]
    public void Coloured_pictures_are_converted_to_gray()
    {
        using var temp = new TempFolder();
        var digit = DigitImage.Load(Render(temp, "2", new SKColor(20, 40, 160), new SKColor(250, 240, 200)));
        Assert.That(digit.max().item<byte>(), Is.EqualTo(255));
        Assert.That(digit[0, 27, 27].item<byte>(), Is.Zero);
    }

    [Test]
    public void Missing_non_image_and_blank_inputs_are_rejected_naming_the_file()
    {
        using var temp = new TempFolder();
        Assert.That(Assert.Throws<ImageInputException>(() => DigitImage.Load(temp.File("nope.png")))!.Message, Does.EndWith("nope.png: no such file"));
        File.WriteAllText(temp.File("notes.png"), "this is text");
        Assert.That(Assert.Throws<ImageInputException>(() => DigitImage.Load(temp.File("notes.png")))!.Message,
            Does.Contain("notes.png: not an image: expected a PNG or JPEG file, found 12 bytes of something else"));
        var blank = Render(temp, "", SKColors.Black, SKColors.White, "blank.png");
        Assert.That(Assert.Throws<ImageInputException>(() => DigitImage.Load(blank))!.Message, Does.Contain("the image is blank"));
    }

    [Test]
    [Category("Integration")]
    public void MNIST_test_images_written_as_PNG_are_predicted_as_the_model_predicts_their_tensors()
    {
        var root = RepoPaths.RequireMnist();
        using var run = new TempFolder();
        TrainMnist.TrainingJob.Run(TrainMnist.Recipe.Fast with { Model = ModelKind.Mlp },
            new TrainMnist.RunOptions { Epochs = 1, DataRoot = root, Download = false, RunFolder = run.Path, Plots = false, Device = TrainMnist.DeviceChoice.Cpu }, TextWriter.Null);
        using var predictor = Predictor.Load(Path.Combine(run.Path, "model.safetensors"));
        using var test = new MNIST(root, train: false);

        var agree = 0;
        for (var i = 0; i < 20; i++)
        {
            var png = run.File($"test{i}.png");
            ImagePng.Save(test.data[i], png, scale: 1);
            var fromFile = predictor.Predict(png).Ranked.First().Label;
            var fromTensor = Array.IndexOf(predictor.Probabilities(test.data[i]), predictor.Probabilities(test.data[i]).Max());
            if (fromFile == fromTensor) agree++;
        }
        Assert.That(agree, Is.EqualTo(20));
    }

    [Test]
    public void A_checkpoint_and_the_weights_file_predict_the_same()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
        using var run = new TempFolder();
        TrainMnist.TrainingJob.Run(TrainMnist.Recipe.Fast,
            new TrainMnist.RunOptions { Epochs = 1, DataRoot = data.Path, Download = false, RunFolder = run.Path, Plots = false, Device = TrainMnist.DeviceChoice.Cpu }, TextWriter.Null);
        using var fromWeights = Predictor.Load(Path.Combine(run.Path, "model.safetensors"));
        using var fromCheckpoint = Predictor.Load(Path.Combine(run.Path, "last.ckpt"));
        using var digit = randint(0, 256, [1, 28, 28]).to(ScalarType.Byte);
        Assert.That(fromCheckpoint.Probabilities(digit), Is.EqualTo(fromWeights.Probabilities(digit)).Within(1e-6));
        foreach (var card in new[] { fromWeights.Card, fromCheckpoint.Card })
        {
            Assert.That((card.Model, card.Dataset, card.Mean, card.Std), Is.EqualTo((ModelKind.LeNet, "MNIST", 0.1307, 0.3081)));
            Assert.That(card.Classes, Is.EqualTo(MnistResources.Mnist.Classes));
        }
    }
}
