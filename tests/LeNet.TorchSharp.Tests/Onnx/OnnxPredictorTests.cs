using Google.Protobuf;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Onnx;
using LeNetTorchSharp.OnnxRuntime;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using Onnx;
using SkiaSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Onnx;

/// <summary>OnnxPredictor: an exported model run without libtorch gives the library's answers, and refuses files it
/// cannot use in one line naming the file.</summary>
public class OnnxPredictorTests
{
    static ModelCard Card(ModelKind kind) => new(kind, "MNIST", [.. Enumerable.Range(0, 10).Select(i => i.ToString())], 0.1307, 0.3081);

    /// <summary>A LeNet exported with its card into <paramref name="folder"/>, and its weights beside it.</summary>
    static string Export(TempFolder folder, ModelKind kind = ModelKind.LeNet)
    {
        manual_seed(5);
        using var model = kind.Create();
        var path = folder.File($"{kind}.onnx");
        OnnxExporter.Export(model, path, Card(kind));
        Weights.Save(model, folder.File($"{kind}.safetensors"), Card(kind));
        return path;
    }

    static string DrawDigit(TempFolder folder)
    {
        var path = folder.File("seven.png");
        using var surface = SKSurface.Create(new SKImageInfo(120, 160));
        surface.Canvas.Clear(SKColors.White);
        using var pen = new SKPaint { Color = SKColors.Black, StrokeWidth = 12, IsAntialias = true, Style = SKPaintStyle.Stroke };
        surface.Canvas.DrawLine(20, 25, 100, 25, pen);
        surface.Canvas.DrawLine(100, 25, 45, 140, pen);
        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    [TestCase(ModelKind.LeNet)]
    [TestCase(ModelKind.Mlp)]
    public void A_picture_gets_the_probabilities_the_libtorch_predictor_gives(ModelKind kind)
    {
        using var temp = new TempFolder();
        var path = Export(temp, kind);
        var picture = DrawDigit(temp);

        using var onnx = OnnxPredictor.Load(path);
        using var library = Predictor.Load(temp.File($"{kind}.safetensors"));
        var fromOnnx = onnx.Predict(picture);
        var fromLibrary = library.Predict(picture);

        Assert.That(onnx.Card.Model, Is.EqualTo(kind));
        Assert.That(onnx.Opset, Is.EqualTo(17));
        Assert.That(onnx.InputShape, Is.EqualTo(kind == ModelKind.LeNet ? new[] { 1, 32, 32 } : new[] { 784 }));
        Assert.That(fromOnnx.Input, Is.EqualTo(fromLibrary.Input.data<byte>().ToArray()), "the same 28x28 digit");
        Assert.That(fromOnnx.Probabilities, Is.EqualTo(fromLibrary.Probabilities).Within(1e-5));
        Assert.That(fromOnnx.Ranked.First().Label, Is.EqualTo(fromLibrary.Ranked.First().Label));
        Assert.That(fromOnnx.Probabilities.Sum(), Is.EqualTo(1f).Within(1e-5));
    }

    [Test]
    public void Batches_of_any_size_give_each_samples_own_answer()
    {
        using var temp = new TempFolder();
        using var onnx = OnnxPredictor.Load(Export(temp));
        var digits = new byte[5 * 784];
        new Random(2).NextBytes(digits);
        var together = onnx.Probabilities(digits, 5);
        for (var i = 0; i < 5; i++)
            Assert.That(together.AsSpan(i * 10, 10).ToArray(), Is.EqualTo(onnx.Probabilities(digits.AsSpan(i * 784, 784), 1)).Within(1e-6));
        Assert.That(() => onnx.Probabilities(digits, 4), Throws.ArgumentException.With.Message.StartsWith("expected 4 x 28 x 28 = 3136 bytes; received 3920."));
        Assert.That(() => onnx.Logits(new float[10], 1), Throws.ArgumentException.With.Message.StartsWith("expected 1 x 1 x 32 x 32 = 1024 floats; received 10."));
    }

    [Test]
    public void A_truncated_or_corrupted_file_is_refused_in_one_line_naming_it()
    {
        using var temp = new TempFolder();
        var bytes = File.ReadAllBytes(Export(temp));
        var truncated = temp.File("truncated.onnx");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        Assert.That(() => OnnxPredictor.Load(truncated), Throws.TypeOf<OnnxModelException>().With.Message.StartsWith(
            $"{truncated}: is truncated or damaged, or not an ONNX model: its {bytes.Length / 2} bytes do not parse as one (While parsing a protocol message, the input ended unexpectedly"));

        var text = temp.File("notes.onnx");
        File.WriteAllText(text, "these are not the weights you are looking for\n");
        Assert.That(() => OnnxPredictor.Load(text), Throws.TypeOf<OnnxModelException>().With.Message.StartsWith($"{text}: is "));

        var empty = temp.File("empty.onnx");
        File.WriteAllBytes(empty, []);
        Assert.That(() => OnnxPredictor.Load(empty), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{empty}: is not an ONNX model: its 0 bytes parse, but hold no IR version or no graph"));

        Assert.That(() => OnnxPredictor.Load(temp.File("missing.onnx")), Throws.TypeOf<OnnxModelException>().With.Message.StartsWith($"{temp.File("missing.onnx")}: "));
        foreach (var path in new[] { truncated, text, empty })
            Assert.That(() => OnnxPredictor.Load(path), Throws.TypeOf<OnnxModelException>().With.Message.Not.Contains("\n"));
    }

    [Test]
    public void A_file_without_a_model_card_or_with_a_damaged_one_is_refused_with_what_to_do()
    {
        using var temp = new TempFolder();
        var bare = temp.File("bare.onnx");
        using (var net = new LeNet()) OnnxExporter.Export(net, bare);
        Assert.That(() => OnnxPredictor.Load(bare), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{bare}: has no model card in its metadata (the lenet-torchsharp.* keys): export it with its card (OnnxExporter.Export(model, path, card), or the trainer program's export command)"));

        var damaged = Edit(temp, "damaged.onnx", m => m.MetadataProps.Single(p => p.Key == "lenet-torchsharp.std").Value = "wide");
        Assert.That(() => OnnxPredictor.Load(damaged), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{damaged}: the model card in the metadata is damaged ('lenet-torchsharp.std' is not a number: 'wide')"));
    }

    [Test]
    public void A_model_whose_input_is_not_the_cards_image_or_whose_output_is_not_its_classes_is_refused()
    {
        using var temp = new TempFolder();
        var color = Edit(temp, "color.onnx", m => m.Graph.Input[0].Type.TensorType.Shape.Dim[1].DimValue = 3);
        Assert.That(() => OnnxPredictor.Load(color), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{color}: expected one float input of N x 1 x 32 x 32 (its model card says LeNet); input 'input' is float of N x 3 x 32 x 32"));

        var doubles = Edit(temp, "double.onnx", m => m.Graph.Input[0].Type.TensorType.ElemType = (int)TensorProto.Types.DataType.Double);
        Assert.That(() => OnnxPredictor.Load(doubles), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{doubles}: expected one float input of N x 1 x 32 x 32 (its model card says LeNet); input 'input' is double of N x 1 x 32 x 32"));

        var classes = Edit(temp, "classes.onnx", m => m.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue = 12);
        Assert.That(() => OnnxPredictor.Load(classes), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{classes}: expected one float output of N x 10 (its model card names 10 classes); output 'logits' is float of N x 12"));

        var mlpCard = Edit(temp, "mlp-card.onnx", m => m.MetadataProps.Single(p => p.Key == "lenet-torchsharp.model").Value = "Mlp",
            m => m.MetadataProps.Remove(m.MetadataProps.Single(p => p.Key == "lenet-torchsharp.input_shape")));
        Assert.That(() => OnnxPredictor.Load(mlpCard), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{mlpCard}: expected one float input of N x 784 (its model card says Mlp); input 'input' is float of N x 1 x 32 x 32"));
    }

    [TestCase(5, "uses ONNX opset 5; expected 7 to 26, the opsets ONNX Runtime 1.31 runs (LeNet.TorchSharp's exporter writes 17)")]
    [TestCase(99, "uses ONNX opset 99; expected 7 to 26, the opsets ONNX Runtime 1.31 runs (LeNet.TorchSharp's exporter writes 17)")]
    public void An_opset_ONNX_Runtime_does_not_run_is_refused_naming_it(int opset, string problem)
    {
        using var temp = new TempFolder();
        var path = Edit(temp, $"opset{opset}.onnx", m => m.OpsetImport[0].Version = opset);
        Assert.That(() => OnnxPredictor.Load(path), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo($"{path}: {problem}"));
        var ir = Edit(temp, "ir99.onnx", m => m.IrVersion = 99);
        Assert.That(() => OnnxPredictor.Load(ir), Throws.TypeOf<OnnxModelException>().With.Message.EqualTo(
            $"{ir}: is ONNX IR version 99; expected at most 13, the newest ONNX Runtime 1.31 reads"));
    }

    [Test]
    public void Weights_ONNX_Runtime_refuses_are_named_in_one_line_and_non_finite_outputs_give_no_answer()
    {
        using var temp = new TempFolder();
        var missing = Edit(temp, "missing-weight.onnx", m => m.Graph.Initializer.Remove(m.Graph.Initializer.Single(i => i.Name == "fc1.weight")));
        Assert.That(() => OnnxPredictor.Load(missing), Throws.TypeOf<OnnxModelException>()
            .With.Message.StartsWith($"{missing}: ONNX Runtime cannot load it: ").And.Message.Not.Contains("\n"));

        var nan = Edit(temp, "nan.onnx", m =>
        {
            var bias = m.Graph.Initializer.Single(i => i.Name == "fc3.bias");
            var values = new float[10];
            values[0] = float.NaN;
            bias.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        });
        using var predictor = OnnxPredictor.Load(nan);
        Assert.That(() => predictor.Predict(DrawDigit(temp)), Throws.InvalidOperationException.With.Message.EqualTo(
            $"{nan}: the model's output is not finite: its weights hold NaN or infinite values, and give no answer."));
    }

    [Test]
    public void A_disposed_predictor_says_so()
    {
        using var temp = new TempFolder();
        var predictor = OnnxPredictor.Load(Export(temp));
        predictor.Dispose();
        Assert.That(() => predictor.Probabilities(new byte[784], 1), Throws.TypeOf<ObjectDisposedException>());
    }

    /// <summary>An exported LeNet changed by <paramref name="edits"/>, written as <paramref name="name"/>.</summary>
    static string Edit(TempFolder temp, string name, params Action<ModelProto>[] edits)
    {
        var source = Export(temp);
        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(source));
        foreach (var edit in edits) edit(model);
        var path = temp.File(name);
        File.WriteAllBytes(path, model.ToByteArray());
        return path;
    }
}
