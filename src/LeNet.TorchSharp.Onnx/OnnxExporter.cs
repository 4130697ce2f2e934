using System.Reflection;
using Google.Protobuf;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Onnx;

/// <summary>
/// Writes a model as an ONNX file, as <c>torch.onnx.export</c> does for PyTorch: <see cref="LeNet"/>, <see cref="Mlp"/>,
/// and any <c>nn.Sequential</c> of the tutorials' layers (<c>Conv2d</c>, <c>Linear</c>, <c>ReLU</c>, <c>Sigmoid</c>,
/// <c>Tanh</c>, <c>MaxPool2d</c>, <c>Flatten</c>, <c>Softmax</c>, <c>LogSoftmax</c>, and <c>Dropout</c>, which is
/// the identity in evaluation).
/// </summary>
/// <remarks>
/// TorchSharp cannot trace a model into ONNX, so the exporter knows these layers and these two networks' forward
/// passes and writes each as its ONNX operators: opset <see cref="Opset"/>, IR version <see cref="IrVersion"/> (what
/// ONNX 1.12's checker and every current ONNX Runtime accept), a variable batch dimension <c>N</c>, the weights as
/// initializers under their <c>state_dict</c> names, and the model card in <c>metadata_props</c> (the same
/// <c>lenet-torchsharp.*</c> keys as a safetensors file's metadata, with the input shape), so that an app knows how to
/// prepare the input. A model it cannot express is refused before anything is written.
/// <code>
/// OnnxExporter.Export(net, "lenet.onnx", card);
/// </code>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The ONNX operator set the files use.</summary>
    public const int Opset = 17;

    /// <summary>The ONNX IR version the files declare.</summary>
    public const int IrVersion = 8;

    /// <summary>The layers an <c>nn.Sequential</c> may hold.</summary>
    public static IReadOnlyList<string> SupportedLayers { get; } =
        ["Conv2d", "Linear", "ReLU", "Sigmoid", "Tanh", "MaxPool2d", "Flatten", "Softmax", "LogSoftmax", "Dropout", "Sequential"];

    /// <summary>Exports <paramref name="model"/> to <paramref name="path"/> (written whole or not at all).</summary>
    /// <param name="model"><see cref="LeNet"/>, <see cref="Mlp"/> or an <c>nn.Sequential</c> of <see cref="SupportedLayers"/>; float32.</param>
    /// <param name="path">A file ending in <c>.onnx</c>.</param>
    /// <param name="card">What the model is (stored in the metadata); for LeNet or the MLP only, and needed by an app
    /// that prepares pictures from it (<c>OnnxPredictor</c>).</param>
    /// <param name="inputShape">The shape of one input sample, without the batch dimension. Needed for an
    /// <c>nn.Sequential</c>; LeNet's is its <see cref="LeNetOptions"/> (1 x 32 x 32), the MLP's its input size (784: an app
    /// passes a 28x28 image's pixels in row order).</param>
    /// <exception cref="ArgumentException">The path does not end in <c>.onnx</c>; the model holds a layer the exporter
    /// cannot write, a layer that does not fit what it receives, or weights that are not finite float32; the input
    /// shape is missing or wrong; or the card contradicts the model. The message names the layer and what differs.</exception>
    public static void Export(nn.Module<Tensor, Tensor> model, string path, ModelCard? card = null, long[]? inputShape = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!string.Equals(Path.GetExtension(path), ".onnx", StringComparison.OrdinalIgnoreCase))
            throw new ArgumentException($"{path}: expected a file ending in .onnx; found '{Path.GetExtension(path)}'.", nameof(path));
        var bytes = Build(model, card, inputShape).ToByteArray();
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>The ONNX model, in memory.</summary>
    internal static ModelProto Build(nn.Module<Tensor, Tensor> model, ModelCard? card, long[]? inputShape)
    {
        var name = model.GetType().Name;
        if (inputShape is not null && (inputShape.Length == 0 || inputShape.Any(d => d < 1)))
            throw new ArgumentException($"{name}: expected an input shape of positive sizes without the batch dimension, e.g. [1, 32, 32]; found [{string.Join(", ", inputShape)}].", nameof(inputShape));
        OnnxGraph graph;
        string output;
        switch (model)
        {
            case LeNet lenet:
                graph = new OnnxGraph(name, SampleShape(name, inputShape, [lenet.Options.InputChannels, lenet.Options.InputSize, lenet.Options.InputSize]));
                WriteLeNet(graph, Children(model));
                output = "logits";
                break;
            case Mlp mlp:
                graph = new OnnxGraph(name, SampleShape(name, inputShape, [mlp.InputSize]));
                WriteMlp(graph, Children(model), mlp.Activation);
                output = "logits";
                break;
            case Sequential:
                graph = new OnnxGraph(name, inputShape ?? throw new ArgumentException(
                    "an nn.Sequential needs the shape of one input sample (without the batch dimension), e.g. [1, 32, 32].", nameof(inputShape)));
                WriteSequential(graph, model, prefix: "");
                output = "output";
                break;
            default:
                throw new ArgumentException(
                    $"{name} is not a model the exporter can write: it writes LeNet, Mlp and nn.Sequential of {string.Join(", ", SupportedLayers)}.", nameof(model));
        }
        var result = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "LeNet.TorchSharp",
            ProducerVersion = typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "",
            Graph = graph.Finish(output),
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = Opset } },
        };
        if (card is not null)
        {
            CheckCard(model, card, graph.InputShape, graph.Shape);
            foreach (var (key, value) in card.ToMetadata())
                result.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        return result;
    }

    /// <summary>The tutorial's forward pass (<see cref="LeNet.forward"/>), layer by layer.</summary>
    static void WriteLeNet(OnnxGraph graph, Dictionary<string, nn.Module> layers)
    {
        graph.Conv("conv1", (Conv2d)layers["conv1"]);
        graph.Elementwise("relu1", "Relu");
        graph.MaxPool("pool1", [2, 2]);
        graph.Conv("conv2", (Conv2d)layers["conv2"]);
        graph.Elementwise("relu2", "Relu");
        graph.MaxPool("pool2", [2, 2]);
        graph.Flatten("flatten", 1, -1);
        graph.Linear("fc1", (Linear)layers["fc1"]);
        graph.Elementwise("relu3", "Relu");
        graph.Linear("fc2", (Linear)layers["fc2"]);
        graph.Elementwise("relu4", "Relu");
        graph.Linear("fc3", (Linear)layers["fc3"]);
    }

    /// <summary><see cref="Mlp.forward"/>: fc1 … fcK with the activation between them.</summary>
    static void WriteMlp(OnnxGraph graph, Dictionary<string, nn.Module> layers, Activation activation)
    {
        var op = activation switch
        {
            Activation.ReLU => "Relu",
            Activation.Sigmoid => "Sigmoid",
            Activation.Tanh => "Tanh",
            _ => throw new ArgumentException($"Mlp: unknown activation {activation}.", "model"),
        };
        for (var i = 1; i <= layers.Count; i++)
        {
            graph.Linear($"fc{i}", (Linear)layers[$"fc{i}"]);
            if (i < layers.Count) graph.Elementwise($"act{i}", op);
        }
    }

    /// <summary>Each child in order, nested Sequentials included; keys as <c>state_dict</c>'s (<c>0.weight</c>, <c>1.0.bias</c>).</summary>
    static void WriteSequential(OnnxGraph graph, nn.Module<Tensor, Tensor> sequential, string prefix)
    {
        foreach (var (childName, child) in sequential.named_children())
        {
            var path = prefix + childName;
            switch (child)
            {
                case Conv2d conv: graph.Conv(path, conv); break;
                case Linear linear: graph.Linear(path, linear); break;
                case ReLU: graph.Elementwise(path, "Relu"); break;
                case Sigmoid: graph.Elementwise(path, "Sigmoid"); break;
                case Tanh: graph.Elementwise(path, "Tanh"); break;
                case MaxPool2d pool: graph.MaxPool(path, pool.kernel_size, pool.stride, pool.padding, pool.dilation, pool.ceil_mode); break;
                case Flatten flatten: graph.Flatten(path, flatten.start_dim, flatten.end_dim); break;
                case Softmax softmax: graph.Softmax(path, "Softmax", softmax.dim); break;
                case LogSoftmax logSoftmax: graph.Softmax(path, "LogSoftmax", logSoftmax.dim); break;
                case Dropout: break; // the identity in evaluation, which is what an exported model does
                case Sequential: WriteSequential(graph, (nn.Module<Tensor, Tensor>)child, path + "."); break;
                default:
                    throw new ArgumentException(
                        $"Sequential: layer '{path}' is a {child.GetType().Name}, which the exporter cannot write; it writes {string.Join(", ", SupportedLayers)}.", "model");
            }
        }
    }

    static Dictionary<string, nn.Module> Children(nn.Module model) =>
        model.named_children().ToDictionary(c => c.name, c => c.module);

    /// <summary>The model's own input shape, or the one given if it is the same.</summary>
    static long[] SampleShape(string model, long[]? given, long[] own)
    {
        if (given is not null && !given.SequenceEqual(own))
            throw new ArgumentException($"{model} takes inputs of N x {string.Join(" x ", own)}; the input shape given is [{string.Join(", ", given)}].", "inputShape");
        return own;
    }

    /// <summary>A card must name this model's architecture and as many classes as it has outputs.</summary>
    static void CheckCard(nn.Module model, ModelCard card, long[] inputShape, long[] outputShape)
    {
        ModelCard.Validated(card);
        var kind = model switch { LeNet => ModelKind.LeNet, Mlp => ModelKind.Mlp, _ => (ModelKind?)null };
        if (kind is null)
            throw new ArgumentException($"a model card names LeNet or the MLP; this is a {model.GetType().Name}: export it without a card.", nameof(card));
        if (card.Model != kind)
            throw new ArgumentException($"the model card says {card.Model}; the model is a {kind}.", nameof(card));
        if (!inputShape[1..].SequenceEqual(ModelCard.InputShape(card.Model).Select(d => (long)d)))
            throw new ArgumentException($"the model card describes {card.Model} with its default sizes, on N x {string.Join(" x ", ModelCard.InputShape(card.Model))} inputs; this one takes {OnnxGraph.Describe(inputShape)}: export it without a card.", nameof(card));
        if (outputShape[^1] != card.Classes.Count)
            throw new ArgumentException($"the model card names {card.Classes.Count} classes; the model has {outputShape[^1]} outputs.", nameof(card));
    }
}
