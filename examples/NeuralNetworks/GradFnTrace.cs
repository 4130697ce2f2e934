using System.Text;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NeuralNetworks;

/// <summary>
/// A stand-in for walking PyTorch's <c>loss.grad_fn</c> chain, which TorchSharp does not expose: forward hooks
/// on every layer and on the loss record which module produced which tensor during the forward pass.
/// </summary>
/// <remarks>
/// Only module calls are seen: the functional calls between them (<c>F.relu</c>, the pooling, <c>flatten</c>)
/// have no hooks. So the chain is followed only where it is certain: from the loss to the module whose output
/// is, as the very same tensor, the loss's input.
/// </remarks>
public sealed class GradFnTrace : IDisposable
{
    /// <summary>One module call: its name in the model, the module, and the tensors it took and gave.</summary>
    public sealed record Call(string Name, nn.Module Module, Tensor Input, Tensor Output);

    readonly List<Call> calls = [];
    readonly List<Action> removeHooks = [];

    /// <summary>The module calls recorded, in the order they ran.</summary>
    public IReadOnlyList<Call> Calls => calls;

    /// <summary>Starts recording the leaf layers of <paramref name="model"/> and the loss module <paramref name="criterion"/>.</summary>
    public GradFnTrace(nn.Module<Tensor, Tensor> model, nn.Module<Tensor, Tensor, Tensor> criterion)
    {
        foreach (var (name, module) in model.named_modules())
        {
            if (module.children().Any() || module is not nn.Module<Tensor, Tensor> layer) continue;
            removeHooks.Add(layer.register_forward_hook((m, input, output) =>
            {
                calls.Add(new Call(name, m, input, output));
                return output;
            }).remove);
        }
        removeHooks.Add(criterion.register_forward_hook((m, input, target, output) =>
        {
            calls.Add(new Call("loss", m, input, output));
            return output;
        }).remove);
    }

    /// <summary>
    /// The first links of the chain, as the tutorial prints them: <c>loss.grad_fn</c>, its
    /// <c>next_functions[0][0]</c>, and that one's <c>next_functions[0][0]</c>, with PyTorch's node names.
    /// </summary>
    public string GradFn()
    {
        var loss = calls.LastOrDefault(c => c.Name == "loss") ?? throw new InvalidOperationException("no loss was computed while tracing.");
        var text = new StringBuilder();
        text.AppendLine(Line("loss.grad_fn", Node(loss.Module), loss.Module.GetType().Name));
        // The module whose output is the loss's input, the same tensor object: nothing ran in between.
        var producer = calls.LastOrDefault(c => c != loss && ReferenceEquals(c.Output, loss.Input));
        if (producer is null)
        {
            text.AppendLine("  (the loss's input came from a functional call, which no hook sees)");
            return text.ToString();
        }
        text.AppendLine(Line(".next_functions[0][0]", Node(producer.Module), $"{producer.Name}: {producer.Module.GetType().Name}"));
        // addmm(bias, input, weight.T): a linear layer's first input is its bias, a leaf whose gradient is accumulated.
        if (producer.Module is Linear { bias: not null })
            text.AppendLine(Line(".next_functions[0][0].next_functions[0][0]", "AccumulateGrad", $"{producer.Name}.bias"));
        return text.ToString();
    }

    static string Line(string path, string node, string what) => $"{path,-44} <{node}>".PadRight(65) + $"({what})";

    /// <summary>The modules the loss goes back through, last first, with their output shapes.</summary>
    public override string ToString() =>
        string.Join(" <- ", calls.AsEnumerable().Reverse().Select(c => $"{c.Name} [{string.Join(", ", c.Output.shape)}]"))
        + $" <- input [{string.Join(", ", calls[0].Input.shape)}]";

    static string Node(nn.Module module) => module switch
    {
        MSELoss => "MseLossBackward0",
        CrossEntropyLoss => "NllLossBackward0",
        Linear => "AddmmBackward0",
        Conv2d => "ConvolutionBackward0",
        _ => module.GetType().Name + "Backward",
    };

    /// <summary>Removes the hooks.</summary>
    public void Dispose()
    {
        foreach (var remove in removeHooks) remove();
        removeHooks.Clear();
    }
}
