using LeNetTorchSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BuildingNetworks;

/// <summary>The tutorial's <c>Network</c>: 784-256-10 with sigmoid and softmax, every layer a module.</summary>
public sealed class Network : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch's attribute names
    private readonly Linear hidden;
    private readonly Linear output;
    private readonly Sigmoid sigmoid;
    private readonly Softmax softmax;
#pragma warning restore IDE1006

    /// <summary>Inputs to hidden layer linear transformation, then output layer, 10 units - one for each digit.</summary>
    public Network() : base(nameof(Network))
    {
        hidden = Linear(784, 256);
        output = Linear(256, 10);
        sigmoid = Sigmoid();
        softmax = Softmax(dim: 1);
        RegisterComponents();
    }

    /// <summary>Pass the input tensor (N x 784) through each of the operations; returns N x 10 probabilities.</summary>
    public override Tensor forward(Tensor x)
    {
        x = hidden.call(x);
        x = sigmoid.call(x);
        x = output.call(x);
        x = softmax.call(x);
        return x;
    }

    /// <inheritdoc/>
    public override string ToString() => this.Summary();
}

/// <summary>The same network in the functional style: only the linear layers are modules.</summary>
public sealed class FunctionalNetwork : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Linear hidden;
    private readonly Linear output;
#pragma warning restore IDE1006

    /// <summary>784 → 256 → 10.</summary>
    public FunctionalNetwork() : base("Network")
    {
        hidden = Linear(784, 256);
        output = Linear(256, 10);
        RegisterComponents();
    }

    /// <summary>Hidden layer with sigmoid activation, output layer with softmax activation.</summary>
    public override Tensor forward(Tensor x)
    {
        x = functional.sigmoid(hidden.call(x));
        x = functional.softmax(output.call(x), dim: 1);
        return x;
    }

    /// <inheritdoc/>
    public override string ToString() => this.Summary();
}
