using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Onnx;
using LeNetTorchSharp.OnnxRuntime;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using LeNetTorchSharp.Tests.Data;
using Microsoft.ML.OnnxRuntime;
using TorchSharp;
using Onnx;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using Sequential = TorchSharp.Modules.Sequential;

namespace LeNetTorchSharp.Tests.Onnx;

/// <summary>OnnxExporter: files ONNX's checker accepts, that ONNX Runtime runs to TorchSharp's answers.</summary>
public class OnnxExportTests
{
    static readonly ModelCard MnistLeNet = new(ModelKind.LeNet, "MNIST", [.. Enumerable.Range(0, 10).Select(i => i.ToString())], 0.1307, 0.3081);

    /// <summary>Every layer the exporter writes, in one network over 1 x 28 x 28 inputs.</summary>
    static Sequential EveryLayer() => Sequential(
        Conv2d(1, 4, 3, padding: 1),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 6, 3, Padding.Same, dilation: 1),
        Tanh(),
        MaxPool2d(3, stride: 2, padding: 1),
        Dropout(0.5),
        Flatten(),
        Linear(6 * 7 * 7, 32),
        Sigmoid(),
        Sequential(Linear(32, 16), ReLU()),
        Linear(16, 10),
        LogSoftmax(1));

    /// <summary>The layers' less usual forms: a strided, dilated, unbiased convolution; a Flatten that keeps two
    /// dimensions (written as Reshape); a Linear on a rank-3 value (MatMul); Softmax over the last axis.</summary>
    static Sequential UnusualForms() => Sequential(
        Conv2d(1, 3, 3, stride: 2, dilation: 2, bias: false),
        Flatten(2, -1),
        Linear(12 * 12, 8),
        ReLU(),
        Linear(8, 5, hasBias: false),
        Softmax(-1));

    public static IEnumerable<TestCaseData> Models()
    {
        yield return new TestCaseData("LeNet", (Func<Module<Tensor, Tensor>>)(() => new LeNet()), new long[] { 1, 32, 32 }).SetName("LeNet");
        yield return new TestCaseData("Mlp", (Func<Module<Tensor, Tensor>>)(() => new Mlp()), new long[] { 784 }).SetName("Mlp");
        yield return new TestCaseData("Mlp-sigmoid", (Func<Module<Tensor, Tensor>>)(() => new Mlp(hidden: [256], activation: Activation.Sigmoid)), new long[] { 784 }).SetName("Mlp 784-256-10 sigmoid");
        yield return new TestCaseData("every-layer", (Func<Module<Tensor, Tensor>>)EveryLayer, new long[] { 1, 28, 28 }).SetName("Sequential of every layer");
        yield return new TestCaseData("unusual", (Func<Module<Tensor, Tensor>>)UnusualForms, new long[] { 1, 28, 28 }).SetName("Sequential of unusual forms");
    }

    [TestCaseSource(nameof(Models))]
    public void ONNX_Runtime_gives_TorchSharps_outputs_within_1e_5_at_batch_1_7_and_256_and_the_checker_passes(string name, Func<Module<Tensor, Tensor>> create, long[] sample)
    {
        manual_seed(3);
        using var model = create();
        model.eval();
        using var temp = new TempFolder();
        var path = temp.File($"{name}.onnx");
        OnnxExporter.Export(model, path, inputShape: model is Sequential ? sample : null);

        Assert.That(OnnxChecker.Check(path), Does.StartWith("1."));
        using var session = new InferenceSession(path);
        foreach (var batch in new long[] { 1, 7, 256 })
        {
            using var scope = NewDisposeScope();
            var x = randn([batch, .. sample]);
            float[] expected;
            using (no_grad()) expected = model.call(x).contiguous().data<float>().ToArray();
            var actual = Run(session, x.data<float>().ToArray(), [batch, .. sample]);
            Assert.That(actual, Has.Length.EqualTo(expected.Length), $"batch {batch}");
            var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.That(worst, Is.LessThanOrEqualTo(1e-5), $"batch {batch}: largest difference {worst}");
        }
    }

    [Test]
    public void The_file_is_opset_17_IR_8_with_a_variable_batch_the_state_dict_names_and_the_model_card()
    {
        using var net = new LeNet();
        using var temp = new TempFolder();
        var path = temp.File("lenet.onnx");
        OnnxExporter.Export(net, path, MnistLeNet);

        var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        Assert.That(model.IrVersion, Is.EqualTo(8));
        Assert.That(model.OpsetImport.Single().Version, Is.EqualTo(17));
        Assert.That(model.ProducerName, Is.EqualTo("LeNet.TorchSharp"));
        Assert.That(model.Graph.Initializer.Select(i => i.Name), Is.EqualTo(net.state_dict().Keys));
        Assert.That(model.Graph.Node.Select(n => n.OpType), Is.EqualTo(new[]
            { "Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm", "Relu", "Gemm", "Relu", "Gemm" }));
        var input = model.Graph.Input.Single();
        Assert.That(input.Name, Is.EqualTo("input"));
        Assert.That(input.Type.TensorType.Shape.Dim.Select(d => d.DimParam + d.DimValue), Is.EqualTo(new[] { "N0", "1", "32", "32" }));
        Assert.That(model.Graph.Output.Single().Name, Is.EqualTo("logits"));
        var metadata = model.MetadataProps.ToDictionary(p => p.Key, p => p.Value);
        Assert.That(metadata["lenet-torchsharp.model"], Is.EqualTo("LeNet"));
        Assert.That(metadata["lenet-torchsharp.input_shape"], Is.EqualTo("[1,32,32]"));
        Assert.That(metadata["lenet-torchsharp.mean"], Is.EqualTo("0.1307"));
        Assert.That(ModelCard.FromMetadata(metadata), Is.EqualTo(MnistLeNet).Using<ModelCard>((a, b) =>
            a.Model == b.Model && a.Classes.SequenceEqual(b.Classes) && a.Mean == b.Mean && a.Std == b.Std && a.Dataset == b.Dataset));
    }

    [Test]
    public void A_layer_the_exporter_cannot_write_is_refused_naming_it_before_any_file_is_written()
    {
        using var temp = new TempFolder();
        var path = temp.File("model.onnx");
        using var withNorm = Sequential(Conv2d(1, 4, 3), BatchNorm2d(4), ReLU());
        Assert.That(() => OnnxExporter.Export(withNorm, path, inputShape: [1, 28, 28]),
            Throws.ArgumentException.With.Message.StartsWith("Sequential: layer '1' is a BatchNorm2d, which the exporter cannot write; it writes Conv2d, Linear, ReLU,"));
        using var reflect = Sequential(Conv2d(1, 4, 3, padding: 1, padding_mode: PaddingModes.Reflect));
        Assert.That(() => OnnxExporter.Export(reflect, path, inputShape: [1, 28, 28]),
            Throws.ArgumentException.With.Message.EqualTo("Sequential: layer '0' is a Conv2d with padding_mode Reflect; the exporter writes zero padding only. (Parameter 'model')"));
        using var misfit = Sequential(Flatten(), Linear(100, 10));
        Assert.That(() => OnnxExporter.Export(misfit, path, inputShape: [1, 28, 28]),
            Throws.ArgumentException.With.Message.StartsWith("Sequential: layer '1' (Linear) takes N x … x 100, but receives N x 784 here."));
        Assert.That(() => OnnxExporter.Export(misfit, path),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("inputShape"));
        using var batchFlatten = Sequential(Flatten(0, -1));
        Assert.That(() => OnnxExporter.Export(batchFlatten, path, inputShape: [784]),
            Throws.ArgumentException.With.Message.Contains("folds the batch dimension in"));
        Assert.That(File.Exists(path), Is.False);
        Assert.That(Directory.GetFiles(temp.Path), Is.Empty, "no temporary file left");
    }

    [Test]
    public void Weights_that_are_not_finite_float32_and_cards_that_contradict_the_model_are_refused()
    {
        using var temp = new TempFolder();
        var path = temp.File("model.onnx");
        using (var net = new LeNet())
        {
            using (no_grad()) net.get_parameter("fc2.bias")![3] = float.NaN;
            Assert.That(() => OnnxExporter.Export(net, path),
                Throws.ArgumentException.With.Message.EqualTo("LeNet: fc2.bias holds NaN at flat index 3; a model with non-finite weights gives no answers. (Parameter 'model')"));
        }
        using (var net = new LeNet())
        {
            net.to(ScalarType.Float64);
            Assert.That(() => OnnxExporter.Export(net, path), Throws.ArgumentException.With.Message.StartsWith("LeNet: conv1.weight is Float64; the exporter writes float32 models"));
        }
        using var mlp = new Mlp();
        Assert.That(() => OnnxExporter.Export(mlp, path, MnistLeNet),
            Throws.ArgumentException.With.Message.StartsWith("the model card says LeNet; the model is a Mlp."));
        using var small = new LeNet(new LeNetOptions { InputSize = 28 });
        Assert.That(() => OnnxExporter.Export(small, path, MnistLeNet),
            Throws.ArgumentException.With.Message.StartsWith("the model card describes LeNet with its default sizes, on N x 1 x 32 x 32 inputs; this one takes N x 1 x 28 x 28"));
        using var sequential = EveryLayer();
        Assert.That(() => OnnxExporter.Export(sequential, path, MnistLeNet, [1, 28, 28]),
            Throws.ArgumentException.With.Message.StartsWith("a model card names LeNet or the MLP; this is a Sequential"));
        Assert.That(() => OnnxExporter.Export(mlp, temp.File("model.pt")),
            Throws.ArgumentException.With.Message.StartsWith($"{temp.File("model.pt")}: expected a file ending in .onnx; found '.pt'."));
        Assert.That(File.Exists(path), Is.False);
    }

    [TestCase(ModelKind.LeNet)]
    [TestCase(ModelKind.Mlp)]
    [Category("Integration")]
    public void On_MNISTs_test_set_ONNX_Runtime_classifies_every_image_as_the_library_does(ModelKind kind)
    {
        var root = RepoPaths.RequireMnist();
        manual_seed(1);
        using var model = kind.Create();
        var size = kind.ImageSize();
        using var train = new MNIST(root, train: true, transform: Normalize.MnistStatistics, imageSize: size);
        using var test = new MNIST(root, train: false, transform: Normalize.MnistStatistics, imageSize: size);
        using (var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.05, momentum: 0.9)))
        {
            // A short training, so that the answers are a trained model's, close calls included.
            using var loader = new TensorDataLoader(train, batchSize: 64, shuffle: true, seed: 1);
            foreach (var (x, y) in loader.Take(150)) trainer.Step(x, y);
            model.eval();
        }
        long[] expected;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var (images, _) = test.GetItems(arange(test.Count));
            expected = model.call(images).argmax(1).data<long>().ToArray();
        }

        using var temp = new TempFolder();
        var path = temp.File("model.onnx");
        OnnxExporter.Export(model, path, new ModelCard(kind, "MNIST", [.. test.classes], 0.1307, 0.3081));
        using var onnx = OnnxPredictor.Load(path);
        var idx = IdxFile.Read(Path.Combine(root, "t10k-images-idx3-ubyte"), 3);
        var labels = IdxFile.Read(Path.Combine(root, "t10k-labels-idx1-ubyte"), 1).Data;
        var probabilities = onnx.Probabilities(idx.Data, idx.Shape[0]);
        var actual = Enumerable.Range(0, idx.Shape[0]).Select(i => ArgMax(probabilities.AsSpan(i * 10, 10))).ToArray();

        var libraryCorrect = expected.Where((p, i) => p == labels[i]).Count();
        var onnxCorrect = actual.Where((p, i) => p == labels[i]).Count();
        Assert.That(libraryCorrect, Is.GreaterThan(8_500), "the model trained");
        Assert.That(onnxCorrect, Is.EqualTo(libraryCorrect));
        Assert.That(actual.Select(a => (long)a), Is.EqualTo(expected), "the same class for every image");
    }

    static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>ONNX Runtime on a raw input of the given shape.</summary>
    internal static float[] Run(InferenceSession session, float[] input, long[] shape)
    {
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var options = new RunOptions();
        using var outputs = session.Run(options, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
