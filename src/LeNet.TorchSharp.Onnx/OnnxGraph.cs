using Google.Protobuf;
using Onnx;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Onnx;

/// <summary>
/// An ONNX graph built one layer at a time from the input on, tracking the shape of the value flowing through (the
/// batch dimension symbolic), so that each layer is checked against what it receives before anything is written.
/// </summary>
internal sealed class OnnxGraph
{
    /// <summary>The symbolic batch dimension's name.</summary>
    public const string Batch = "N";

    readonly GraphProto graph = new();
    readonly HashSet<string> names = [];

    /// <summary>The value the next layer reads.</summary>
    string current = "input";

    /// <summary>The shape of <see cref="current"/>; -1 marks the batch dimension.</summary>
    public long[] Shape { get; private set; }

    /// <summary>The graph's input shape; -1 marks the batch dimension.</summary>
    public long[] InputShape { get; }

    /// <summary>Where errors say the problem is: the model's type name.</summary>
    readonly string model;

    public OnnxGraph(string name, long[] sampleShape)
    {
        model = name;
        graph.Name = name;
        Shape = InputShape = [-1, .. sampleShape];
        graph.Input.Add(ValueInfo(current, Shape));
    }

    /// <summary>Names the last value <paramref name="output"/> and declares it as the graph's output.</summary>
    /// <exception cref="ArgumentException">No layer was added.</exception>
    public GraphProto Finish(string output)
    {
        if (graph.Node.Count == 0)
            throw new ArgumentException($"{model} has no layers to export.", "model");
        var last = graph.Node[^1];
        last.Output[0] = output;
        graph.Output.Add(ValueInfo(output, Shape));
        return graph;
    }

    /// <summary><c>nn.Conv2d</c> as ONNX <c>Conv</c>.</summary>
    public void Conv(string path, TorchSharp.Modules.Conv2d conv)
    {
        if (conv.padding_mode != PaddingModes.Zeros)
            throw Unsupported(path, $"a Conv2d with padding_mode {conv.padding_mode}; the exporter writes zero padding only");
        var weight = conv.weight ?? throw Unsupported(path, "a Conv2d without a weight");
        var (inChannels, kernel) = (weight.shape[1] * conv.groups, conv.kernel_size);
        Expect(path, "Conv2d", Shape.Length == 4 && Shape[1] == inChannels, $"N x {inChannels} x H x W");
        long[] stride = Pair(conv.stride, 1), dilation = Pair(conv.dilation, 1);
        long[] pads;
        if (conv.padding_type is Padding.Same)
        {
            var total = Enumerable.Range(0, 2).Select(i => dilation[i] * (kernel[i] - 1)).ToArray();
            pads = [total[0] / 2, total[1] / 2, total[0] - total[0] / 2, total[1] - total[1] / 2];
        }
        else
        {
            var p = conv.padding_type is Padding.Valid ? [0, 0] : Pair(conv.padding, 0);
            pads = [p[0], p[1], p[0], p[1]];
        }
        var outShape = new long[] { -1, weight.shape[0], 0, 0 };
        for (var i = 0; i < 2; i++)
        {
            outShape[2 + i] = (Shape[2 + i] + pads[i] + pads[2 + i] - dilation[i] * (kernel[i] - 1) - 1) / stride[i] + 1;
            if (outShape[2 + i] < 1)
                throw Unsupported(path, $"a Conv2d whose {Shape[2]}x{Shape[3]} input is smaller than its {kernel[0]}x{kernel[1]} kernel");
        }
        List<string> inputs = [current, Initializer($"{path}.weight", weight)];
        if (conv.bias is { } bias) inputs.Add(Initializer($"{path}.bias", bias));
        Add("Conv", path, inputs, outShape,
            Ints("kernel_shape", kernel), Ints("strides", stride), Ints("pads", pads), Ints("dilations", dilation), Int("group", conv.groups));
    }

    /// <summary><c>nn.MaxPool2d</c> / <c>F.max_pool2d</c> as ONNX <c>MaxPool</c>.</summary>
    public void MaxPool(string path, long[] kernelSize, long[]? strideSize = null, long[]? padding = null, long[]? dilationSize = null, bool ceilMode = false)
    {
        Expect(path, "MaxPool2d", Shape.Length == 4, "N x C x H x W");
        long[] kernel = Pair(kernelSize, 1), stride = strideSize is null ? kernel : Pair(strideSize, 1);
        long[] pad = Pair(padding, 0), dilation = Pair(dilationSize, 1);
        var outShape = new long[] { -1, Shape[1], 0, 0 };
        for (var i = 0; i < 2; i++)
        {
            var span = Shape[2 + i] + 2 * pad[i] - dilation[i] * (kernel[i] - 1) - 1;
            var floor = span / stride[i] + 1;
            var ceil = (span + stride[i] - 1) / stride[i] + 1;
            // PyTorch drops a last window that would start in the right padding; ONNX's formula (opset 17) does not.
            var torch = ceilMode && (ceil - 1) * stride[i] >= Shape[2 + i] + pad[i] ? ceil - 1 : ceilMode ? ceil : floor;
            if (ceilMode && torch != ceil)
                throw Unsupported(path, $"a ceil_mode MaxPool2d whose last window on a {Shape[2 + i]}-pixel side starts in the padding, which PyTorch drops and ONNX keeps");
            if (span < 0 || torch < 1)
                throw Unsupported(path, $"a MaxPool2d whose {Shape[2]}x{Shape[3]} input is smaller than its {kernel[0]}x{kernel[1]} window");
            outShape[2 + i] = torch;
        }
        Add("MaxPool", path, [current], outShape,
            Ints("kernel_shape", kernel), Ints("strides", stride), Ints("pads", [pad[0], pad[1], pad[0], pad[1]]),
            Ints("dilations", dilation), Int("ceil_mode", ceilMode ? 1 : 0));
    }

    /// <summary><c>nn.Linear</c>: ONNX <c>Gemm</c> on a batch of vectors, <c>MatMul</c> by the transposed weight (and
    /// <c>Add</c>) on higher ranks, as PyTorch applies it to the last dimension.</summary>
    public void Linear(string path, TorchSharp.Modules.Linear linear)
    {
        var weight = linear.weight ?? throw Unsupported(path, "a Linear without a weight");
        var (outFeatures, inFeatures) = (weight.shape[0], weight.shape[1]);
        Expect(path, "Linear", Shape.Length >= 2 && Shape[^1] == inFeatures, $"N x … x {inFeatures}");
        long[] outShape = [.. Shape[..^1], outFeatures];
        var w = Initializer($"{path}.weight", weight);
        var b = linear.bias is { } bias ? Initializer($"{path}.bias", bias) : null;
        if (Shape.Length == 2)
        {
            Add("Gemm", path, b is null ? [current, w] : [current, w, b], outShape, Int("transB", 1));
            return;
        }
        var transposed = Add("Transpose", $"{path}/weight", [w], [inFeatures, outFeatures], keepCurrent: true, Ints("perm", [1, 0]));
        Add("MatMul", path, [current, transposed], outShape);
        if (b is not null) Add("Add", $"{path}/bias", [current, b], outShape);
    }

    /// <summary><c>F.relu</c>, <c>torch.sigmoid</c>, <c>torch.tanh</c>: ONNX <c>Relu</c>, <c>Sigmoid</c>, <c>Tanh</c>.</summary>
    public void Elementwise(string path, string op) => Add(op, path, [current], Shape);

    /// <summary><c>torch.flatten(x, start_dim, end_dim)</c>: ONNX <c>Flatten</c> for the usual (1, -1), else <c>Reshape</c>.</summary>
    public void Flatten(string path, long startDim, long endDim)
    {
        var rank = Shape.Length;
        long start = startDim < 0 ? startDim + rank : startDim, end = endDim < 0 ? endDim + rank : endDim;
        if (start < 0 || end >= rank || start > end)
            throw Unsupported(path, $"a Flatten({startDim}, {endDim}) of a rank-{rank} value");
        if (start == 0)
            throw Unsupported(path, "a Flatten that folds the batch dimension in, which an exported model's variable batch cannot keep");
        long[] outShape = [.. Shape[..(int)start], Shape[(int)start..((int)end + 1)].Aggregate(1L, (a, d) => a * d), .. Shape[((int)end + 1)..]];
        if (start == 1 && end == rank - 1)
        {
            Add("Flatten", path, [current], outShape, Int("axis", 1));
            return;
        }
        // Reshape's 0 copies the batch dimension through; every other size is known.
        var target = outShape.Select((d, i) => i == 0 ? 0 : d).ToArray();
        var shapeName = Unique($"{path}/shape");
        graph.Initializer.Add(new TensorProto { Name = shapeName, DataType = (int)TensorProto.Types.DataType.Int64, Dims = { target.Length }, Int64Data = { target } });
        Add("Reshape", path, [current, shapeName], outShape);
    }

    /// <summary><c>nn.Softmax(dim)</c> / <c>nn.LogSoftmax(dim)</c>: ONNX's (opset 13 and later) over the one axis, as PyTorch's.</summary>
    public void Softmax(string path, string op, long dim)
    {
        var axis = dim < 0 ? dim + Shape.Length : dim;
        if (axis < 0 || axis >= Shape.Length)
            throw Unsupported(path, $"a {op}({dim}) of a rank-{Shape.Length} value");
        Add(op, path, [current], Shape, Int("axis", axis));
    }

    /// <summary>A layer whose input is not what it takes: the message names the layer, what it takes and what it gets.</summary>
    void Expect(string path, string type, bool fits, string expected)
    {
        if (!fits)
            throw new ArgumentException($"{model}: layer '{path}' ({type}) takes {expected}, but receives {Describe(Shape)} here.", "model");
    }

    ArgumentException Unsupported(string path, string what) =>
        new($"{model}: layer '{path}' is {what}.", "model");

    /// <summary>A shape as the messages show it, with N for the batch.</summary>
    public static string Describe(long[] shape) => string.Join(" x ", shape.Select(d => d < 0 ? Batch : d.ToString()));

    string Add(string op, string path, List<string> inputs, long[] outShape, params AttributeProto[] attributes) =>
        Add(op, path, inputs, outShape, keepCurrent: false, attributes);

    string Add(string op, string path, List<string> inputs, long[] outShape, bool keepCurrent, params AttributeProto[] attributes)
    {
        var name = Unique($"/{path}/{op}");
        var node = new NodeProto { Name = name, OpType = op, Input = { inputs }, Output = { name + "_output_0" } };
        node.Attribute.Add(attributes);
        graph.Node.Add(node);
        if (!keepCurrent)
        {
            current = node.Output[0];
            Shape = outShape;
        }
        return node.Output[0];
    }

    string Unique(string name)
    {
        var unique = name;
        for (var i = 1; !names.Add(unique); i++) unique = $"{name}_{i}";
        return unique;
    }

    /// <summary>A parameter as a float32 initializer under its <c>state_dict</c> name.</summary>
    string Initializer(string name, Tensor parameter)
    {
        if (parameter.dtype != ScalarType.Float32)
            throw new ArgumentException($"{model}: {name} is {parameter.dtype}; the exporter writes float32 models: convert it with model.to(ScalarType.Float32).", "model");
        float[] values;
        using (NewDisposeScope())
            values = parameter.detach().cpu().contiguous().data<float>().ToArray();
        var bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new ArgumentException($"{model}: {name} holds {values[bad]} at flat index {bad}; a model with non-finite weights gives no answers.", "model");
        names.Add(name);
        graph.Initializer.Add(new TensorProto
        {
            Name = name,
            DataType = (int)TensorProto.Types.DataType.Float,
            Dims = { parameter.shape },
            // ONNX's raw data is little-endian, as .NET's floats are on every platform it runs on.
            RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())),
        });
        return name;
    }

    static ValueInfoProto ValueInfo(string name, long[] shape)
    {
        var dims = new TensorShapeProto();
        foreach (var d in shape)
            dims.Dim.Add(d < 0 ? new TensorShapeProto.Types.Dimension { DimParam = Batch } : new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims } },
        };
    }

    /// <summary>A 2-d setting from what TorchSharp stores: two values, one for both, or none (the default).</summary>
    static long[] Pair(long[]? values, long fallback) => values switch
    {
        null or [] => [fallback, fallback],
        [var both] => [both, both],
        _ => [values[0], values[1]],
    };

    static AttributeProto Ints(string name, IEnumerable<long> values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
}
