using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Models;

/// <summary>One operation seen during a traced forward pass.</summary>
/// <param name="Name">The operation, as <c>torch.nn.functional</c> names it: <c>conv2d</c>, <c>relu</c>, <c>linear</c>, <c>mse_loss</c>…</param>
/// <param name="Module">The module that ran it (<c>conv1</c>, <c>fc3</c>), or null for a functional call.</param>
/// <param name="OutputShape">Shape of its result.</param>
public sealed record TracedOperation(string Name, string? Module, long[] OutputShape)
{
    /// <summary>The autograd node PyTorch records for this operation (what <c>grad_fn</c> shows), e.g. <c>AddmmBackward0</c> for <c>linear</c>.</summary>
    public string PyTorchBackward => Name switch
    {
        "conv2d" => "ConvolutionBackward0",
        "linear" => "AddmmBackward0",
        "relu" => "ReluBackward0",
        "sigmoid" => "SigmoidBackward0",
        "tanh" => "TanhBackward0",
        "max_pool2d" => "MaxPool2DWithIndicesBackward0",
        "flatten" => "ViewBackward0",
        "softmax" => "SoftmaxBackward0",
        "log_softmax" => "LogSoftmaxBackward0",
        "mse_loss" => "MseLossBackward0",
        "cross_entropy" => "NllLossBackward0",
        _ => "?",
    };
}

/// <summary>
/// Records the operations of a forward pass, in order: the closest honest equivalent to walking
/// PyTorch's <c>loss.grad_fn</c> chain, which TorchSharp does not expose.
/// </summary>
/// <remarks>
/// Module calls (<c>conv1</c>, <c>fc1</c>, a loss module) are recorded by forward hooks, which run when a
/// module is invoked with <c>call()</c> (PyTorch's <c>__call__</c>); the functional operations between them
/// (<c>relu</c>, <c>max_pool2d</c>, <c>flatten</c>) are recorded by <see cref="Functional"/>, which this
/// library's models use. This is the sequence of operations as the forward ran, not libtorch's autograd
/// graph itself: operations a model performs through other functions are not seen.
/// <code>
/// using var trace = OperationTrace.Start(net, criterion);
/// var loss = criterion.call(net.call(input), target);
/// Console.WriteLine(trace.Backward());
/// </code>
/// </remarks>
public sealed class OperationTrace : IDisposable
{
    static readonly AsyncLocal<OperationTrace?> current = new();

    readonly List<TracedOperation> operations = [];
    readonly List<Action> removeHooks = [];
    readonly OperationTrace? previous;
    long[]? inputShape;

    OperationTrace()
    {
        previous = current.Value;
        current.Value = this;
    }

    /// <summary>The operations recorded so far, in the order they ran.</summary>
    public IReadOnlyList<TracedOperation> Operations => operations;

    /// <summary>Starts recording, hooking every leaf layer of <paramref name="modules"/> (models and loss modules).</summary>
    public static OperationTrace Start(params nn.Module[] modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var trace = new OperationTrace();
        foreach (var root in modules)
        {
            foreach (var (name, module) in root.named_modules().Prepend((string.Empty, root)))
            {
                if (module.children().Any()) continue;
                var label = name.Length == 0 ? null : name;
                switch (module)
                {
                    case nn.Module<Tensor, Tensor> layer:
                        trace.removeHooks.Add(layer.register_forward_hook((m, input, output) =>
                        {
                            trace.SeeInput(input);
                            trace.Add(OperationName(m), label, output);
                            return output;
                        }).remove);
                        break;
                    case nn.Module<Tensor, Tensor, Tensor> loss:
                        trace.removeHooks.Add(loss.register_forward_hook((m, input, target, output) =>
                        {
                            trace.Add(OperationName(m), label, output);
                            return output;
                        }).remove);
                        break;
                }
            }
        }
        return trace;
    }

    /// <summary>Records an operation in the active trace, if any; returns <paramref name="result"/> unchanged.</summary>
    public static Tensor Note(string operation, Tensor result)
    {
        current.Value?.Add(operation, null, result);
        return result;
    }

    void SeeInput(Tensor input) => inputShape ??= input.shape;

    void Add(string name, string? module, Tensor output) => operations.Add(new TracedOperation(name, module, output.shape));

    static string OperationName(nn.Module module) => module switch
    {
        Conv2d => "conv2d",
        Linear => "linear",
        ReLU => "relu",
        Sigmoid => "sigmoid",
        Tanh => "tanh",
        MaxPool2d => "max_pool2d",
        Flatten => "flatten",
        Softmax => "softmax",
        LogSoftmax => "log_softmax",
        MSELoss => "mse_loss",
        CrossEntropyLoss => "cross_entropy",
        _ => module.GetType().Name.ToLowerInvariant(),
    };

    /// <summary>The operations from the last (the loss) back to the input, one per line, with PyTorch's autograd node names.</summary>
    public string Backward()
    {
        var text = new StringBuilder();
        for (var i = operations.Count - 1; i >= 0; i--)
        {
            var op = operations[i];
            var what = op.Module is null ? op.Name : $"{op.Name} ({op.Module})";
            text.AppendLine($"  {(i == operations.Count - 1 ? "loss" : "  <-")} {what,-22} -> {Shape(op.OutputShape),-16} PyTorch: {op.PyTorchBackward}");
        }
        if (inputShape is not null) text.AppendLine($"    <- {"input",-22}    {Shape(inputShape)}");
        return text.ToString();
    }

    /// <summary>The operations in forward order: <c>input → conv2d → relu → …</c>.</summary>
    public override string ToString() =>
        string.Join(" -> ", operations.Select(o => o.Name).Prepend("input"));

    static string Shape(long[] shape) => shape.Length == 0 ? "[] (scalar)" : $"[{string.Join(", ", shape)}]";

    /// <summary>Stops recording and removes the hooks.</summary>
    public void Dispose()
    {
        foreach (var remove in removeHooks) remove();
        removeHooks.Clear();
        if (current.Value == this) current.Value = previous;
    }
}
