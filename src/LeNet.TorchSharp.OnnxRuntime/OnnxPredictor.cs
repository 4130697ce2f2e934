using Google.Protobuf;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Serialization;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace LeNetTorchSharp.OnnxRuntime;

/// <summary>
/// A model exported by <c>OnnxExporter</c> (package LeNet.TorchSharp.Onnx), run on ONNX Runtime: pictures and MNIST
/// images are prepared from the model card in the file's metadata exactly as the library prepares them, so the
/// answers are the library's, without TorchSharp or libtorch.
/// </summary>
/// <remarks>
/// The file is checked before ONNX Runtime sees it: that it is an ONNX model, of an opset ONNX Runtime runs, with a
/// model card, one float input of the card's shape (after a batch dimension) and one output of one value per class.
/// <see cref="Logits"/>, <see cref="Probabilities"/> and <see cref="Predict"/> may be called from several threads at
/// once, as ONNX Runtime's <c>Run</c> may.
/// <code>
/// using var model = OnnxPredictor.Load("lenet.onnx");
/// var prediction = model.Predict("digit.jpg");
/// </code>
/// </remarks>
public sealed class OnnxPredictor : IDisposable
{
    /// <summary>The largest ONNX file read (256 MiB): thousands of times LeNet's.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>The oldest ONNX opset accepted: 7, the first that ONNX Runtime supports.</summary>
    public const int MinOpset = 7;

    /// <summary>The newest ONNX opset accepted: the newest that ONNX Runtime 1.31 runs.</summary>
    public const int MaxOpset = 26;

    /// <summary>The newest ONNX IR version accepted: the newest that ONNX Runtime 1.31 reads.</summary>
    public const int MaxIrVersion = 13;

    readonly InferenceSession session;
    readonly string inputName;
    readonly string outputName;
    readonly long fixedBatch;
    bool disposed;

    /// <summary>The file the model came from.</summary>
    public string Path { get; }

    /// <summary>What the model is and how its inputs are prepared, from the file's metadata.</summary>
    public ModelCard Card { get; }

    /// <summary>The ONNX opset the file uses.</summary>
    public int Opset { get; }

    /// <summary>The model's parameters: the elements of its float initializers (the weights).</summary>
    public long ParameterCount { get; }

    /// <summary>One sample's input shape, after the batch dimension: 1 x 32 x 32 for LeNet, 784 for the MLP.</summary>
    public IReadOnlyList<int> InputShape => ModelCard.InputShape(Card.Model);

    /// <summary>The side of the square images the model takes (32 for LeNet, 28 for the MLP).</summary>
    public int ImageSize => ModelCard.ImageSize(Card.Model);

    OnnxPredictor(string path, InferenceSession session, ModelCard card, int opset, long parameters, string inputName, string outputName, long fixedBatch)
    {
        Path = path;
        ParameterCount = parameters;
        this.session = session;
        Card = card;
        Opset = opset;
        this.inputName = inputName;
        this.outputName = outputName;
        this.fixedBatch = fixedBatch;
    }

    /// <summary>Reads, checks and loads an exported model.</summary>
    /// <param name="path">A <c>.onnx</c> file written by <c>OnnxExporter</c> (or with the same metadata).</param>
    /// <param name="options">ONNX Runtime's session options (threads, execution providers); default ONNX Runtime's.</param>
    /// <exception cref="OnnxModelException">The file is missing, not a regular file, too large, not an ONNX model or
    /// damaged, of an opset outside <see cref="MinOpset"/>–<see cref="MaxOpset"/> or an IR version past <see cref="MaxIrVersion"/>, without a model card or with a
    /// damaged one, with inputs or outputs other than the card describes, or refused by ONNX Runtime.</exception>
    public static OnnxPredictor Load(string path, SessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var bytes = InputFile.ReadAllBytes(path, MaxFileBytes, (p, problem) => new OnnxModelException(p, problem));
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxModelException(path, $"is truncated or damaged, or not an ONNX model: its {bytes.Length} bytes do not parse as one ({e.Message.TrimEnd('.')})", e);
        }
        if (model.IrVersion <= 0 || model.Graph is null || model.Graph.Node.Count == 0)
            throw new OnnxModelException(path, $"is not an ONNX model: its {bytes.Length} bytes parse, but hold no IR version or no graph");

        if (model.IrVersion > MaxIrVersion)
            throw new OnnxModelException(path, $"is ONNX IR version {model.IrVersion}; expected at most {MaxIrVersion}, the newest ONNX Runtime 1.31 reads");
        var opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => (long?)o.Version).FirstOrDefault()
            ?? throw new OnnxModelException(path, "declares no ONNX operator set");
        if (opset < MinOpset || opset > MaxOpset)
            throw new OnnxModelException(path, $"uses ONNX opset {opset}; expected {MinOpset} to {MaxOpset}, the opsets ONNX Runtime 1.31 runs (LeNet.TorchSharp's exporter writes 17)");

        ModelCard card;
        try
        {
            card = ModelCard.FromMetadata(model.MetadataProps.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value))
                ?? throw new OnnxModelException(path,
                    "has no model card in its metadata (the lenet-torchsharp.* keys): export it with its card (OnnxExporter.Export(model, path, card), or the trainer program's export command)");
        }
        catch (FormatException e)
        {
            throw new OnnxModelException(path, $"the model card in the metadata is damaged ({e.Message})", e);
        }

        var (inputName, fixedBatch) = CheckInput(model.Graph, card, path);
        var outputName = CheckOutput(model.Graph, card, path);
        InferenceSession session;
        try
        {
            session = options is null ? new InferenceSession(bytes) : new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxModelException(path, $"ONNX Runtime cannot load it: {e.Message.Split('\n')[0].Trim()}", e);
        }
        var parameters = model.Graph.Initializer.Where(i => i.DataType == (int)TensorProto.Types.DataType.Float)
            .Sum(i => i.Dims.Aggregate(1L, (a, d) => a * d));
        return new OnnxPredictor(path, session, card, (int)opset, parameters, inputName, outputName, fixedBatch);
    }

    /// <summary>The one graph input that is not a weight: float, of the card's shape after a batch dimension.</summary>
    static (string Name, long FixedBatch) CheckInput(GraphProto graph, ModelCard card, string path)
    {
        var weights = graph.Initializer.Select(i => i.Name).ToHashSet();
        var inputs = graph.Input.Where(i => !weights.Contains(i.Name)).ToList();
        var expected = ModelCard.InputShape(card.Model);
        var wanted = $"one float input of N x {string.Join(" x ", expected)} (its model card says {card.Model})";
        if (inputs.Count != 1)
            throw new OnnxModelException(path, $"expected {wanted}; found {inputs.Count} inputs");
        var input = inputs[0];
        var dims = input.Type?.TensorType?.Shape?.Dim;
        if (input.Type?.TensorType is not { ElemType: (int)TensorProto.Types.DataType.Float } || dims is null)
            throw new OnnxModelException(path, $"expected {wanted}; input '{input.Name}' is {Describe(input)}");
        var sample = dims.Skip(1).Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : -1).ToArray();
        if (dims.Count != expected.Length + 1 || !sample.SequenceEqual(expected.Select(d => (long)d)))
            throw new OnnxModelException(path, $"expected {wanted}; input '{input.Name}' is {Describe(input)}");
        var batch = dims[0].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? dims[0].DimValue : 0;
        return (input.Name, batch);
    }

    /// <summary>The one graph output: float, one value per class of the card.</summary>
    static string CheckOutput(GraphProto graph, ModelCard card, string path)
    {
        var wanted = $"one float output of N x {card.Classes.Count} (its model card names {card.Classes.Count} classes)";
        if (graph.Output.Count != 1)
            throw new OnnxModelException(path, $"expected {wanted}; found {graph.Output.Count} outputs");
        var output = graph.Output[0];
        var dims = output.Type?.TensorType?.Shape?.Dim;
        var fits = output.Type?.TensorType is { ElemType: (int)TensorProto.Types.DataType.Float }
            && (dims is null || dims.Count == 0
                || dims.Count == 2 && (dims[1].ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue || dims[1].DimValue == card.Classes.Count));
        if (!fits)
            throw new OnnxModelException(path, $"expected {wanted}; output '{output.Name}' is {Describe(output)}");
        return output.Name;
    }

    static string Describe(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensor) return "not a tensor";
        var type = ((TensorProto.Types.DataType)tensor.ElemType).ToString().ToLowerInvariant();
        var dims = tensor.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        });
        return dims is null ? $"{type} of unknown shape" : $"{type} of {string.Join(" x ", dims)}";
    }

    /// <summary>The model's outputs (logits for LeNet and the MLP) for <paramref name="count"/> prepared inputs.</summary>
    /// <param name="input"><paramref name="count"/> x <see cref="InputShape"/> floats, as <see cref="ModelInput.Prepare"/> makes them.</param>
    /// <param name="count">How many samples.</param>
    /// <returns><paramref name="count"/> x classes floats, row-major.</returns>
    /// <exception cref="ArgumentException">The input does not hold <paramref name="count"/> samples.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public float[] Logits(ReadOnlySpan<float> input, int count)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var sample = InputShape.Aggregate(1, (a, d) => a * d);
        if (count < 1 || input.Length != (long)count * sample)
            throw new ArgumentException($"expected {count} x {string.Join(" x ", InputShape)} = {(long)count * sample} floats; received {input.Length}.", nameof(input));
        var classes = Card.Classes.Count;
        var result = new float[(long)count * classes];
        // A model exported with a fixed batch (torch.onnx.export without dynamic axes) runs in chunks of it, the last padded.
        var batch = fixedBatch > 0 ? (int)fixedBatch : count;
        long[] shape = [batch, .. InputShape.Select(d => (long)d)];
        for (var start = 0; start < count; start += batch)
        {
            var n = Math.Min(batch, count - start);
            var chunk = new float[batch * sample];
            input.Slice(start * sample, n * sample).CopyTo(chunk);
            using var value = OrtValue.CreateTensorValueFromMemory(chunk, shape);
            using var run = new RunOptions();
            using var outputs = session.Run(run, [inputName], [value], [outputName]);
            var logits = outputs[0].GetTensorDataAsSpan<float>();
            if (logits.Length != batch * classes)
                throw new OnnxModelException(Path, $"its output holds {logits.Length} values for {batch} samples; expected {classes} per sample");
            logits[..(n * classes)].CopyTo(result.AsSpan(start * classes));
        }
        return result;
    }

    /// <summary>Class probabilities (softmax of the logits) for <paramref name="count"/> MNIST-style digits.</summary>
    /// <param name="digits"><paramref name="count"/> x 28 x 28 bytes, as <see cref="MnistDigit"/> and MNIST's IDX files hold them.</param>
    /// <param name="count">How many digits.</param>
    /// <returns><paramref name="count"/> x classes probabilities, row-major.</returns>
    /// <exception cref="ArgumentException">The bytes are not <paramref name="count"/> x 28 x 28.</exception>
    /// <exception cref="InvalidOperationException">The model's output is not finite.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public float[] Probabilities(ReadOnlySpan<byte> digits, int count)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var logits = Logits(ModelInput.Prepare(digits, count, ImageSize, Card.Mean, Card.Std), count);
        if (!logits.All(float.IsFinite))
            throw new InvalidOperationException($"{Path}: the model's output is not finite: its weights hold NaN or infinite values, and give no answer.");
        var classes = Card.Classes.Count;
        for (var row = 0; row < count; row++)
        {
            var values = logits.AsSpan(row * classes, classes);
            var max = values[0];
            foreach (var v in values) max = Math.Max(max, v);
            double sum = 0;
            foreach (var v in values) sum += Math.Exp(v - max);
            for (var i = 0; i < values.Length; i++) values[i] = (float)(Math.Exp(values[i] - max) / sum);
        }
        return logits;
    }

    /// <summary>Reads a picture, prepares it like MNIST (<see cref="MnistDigit.Load"/>), and classifies it.</summary>
    /// <exception cref="ImageInputException">The file is missing, not an image, damaged, or blank.</exception>
    /// <exception cref="ObjectDisposedException">The predictor was disposed.</exception>
    public DigitPrediction Predict(string imagePath)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var digit = MnistDigit.Load(imagePath);
        return new DigitPrediction(digit, Probabilities(digit, 1), Card.Classes);
    }

    /// <summary>Releases ONNX Runtime's session.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        session.Dispose();
    }
}
