using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using static LeNetTorchSharp.Tests.Kernels.Float64Reference;
using TorchF = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>Gradients differentiated again through every kernel of a LeNet: a penalty on the weights' gradients (as
/// gradient-penalty training writes it) differentiated for the input and the weights, against a float64 LeNet on
/// libtorch's layers.</summary>
/// <remarks>The kernels' <c>create_graph</c> gradients come from <c>autograd.grad</c> over a recomputed forward; TorchSharp's
/// <c>retain_graph</c> defaults to false where PyTorch's follows <c>create_graph</c>, and without it the second
/// differentiation found that graph freed and libtorch ended the process.</remarks>
public class SecondDerivativeTests
{
    // The gradients, for the input and for the first of weights, of the sum of squares of the loss's gradients for
    // weights: the first differentiation under create_graph, the second through it.
    static (Tensor Input, Tensor Weight) PenaltyGradients(nn.Module<Tensor, Tensor> model, Tensor image, Tensor labels,
        IList<Tensor> weights, ScalarType type)
    {
        var x = image.to(type).requires_grad_(true);
        var loss = TorchF.cross_entropy(model.call(x), labels);
        var first = autograd.grad([loss], weights, retain_graph: true, create_graph: true);
        var penalty = first.Select(g => g.pow(2).sum()).Aggregate((a, b) => a + b);
        var second = autograd.grad([penalty], [x, weights[0]]);
        return (second[0], second[1]);
    }

    [Test]
    public void A_penalty_on_LeNets_weight_gradients_differentiates_as_float64_does()
    {
        using var scope = NewDisposeScope();
        var net = new LeNet();
        var exact = new LeNet(new LeNetOptions { UseConv1Kernel = false, UseConv2Kernel = false, UseMaxPoolKernel = false, UseLinearKernel = false });
        exact.load_state_dict(net.state_dict());
        exact.to(ScalarType.Float64);
        var image = randn(4, 1, 32, 32, generator: new Generator(21));
        var labels = randint(0, 10, [4], generator: new Generator(22));
        string[] names = ["conv1.weight", "conv2.weight", "fc1.weight"];

        var actual = PenaltyGradients(net, image, labels, names.Select(n => (Tensor)net.get_parameter(n)!).ToList(), ScalarType.Float32);
        var reference = PenaltyGradients(exact, image, labels, names.Select(n => (Tensor)exact.get_parameter(n)!).ToList(), ScalarType.Float64);
        AssertClose(actual.Input, reference.Input, "the penalty's gradient for the input", 1e-4);
        AssertClose(actual.Weight, reference.Weight, "the penalty's gradient for conv1's weight", 1e-4);
    }

    [Test]
    public void A_penalty_on_the_MLPs_weight_gradients_differentiates_as_float64_does()
    {
        using var scope = NewDisposeScope();
        var net = new Mlp();
        var exact = new Mlp { UseLinearKernel = false };
        exact.load_state_dict(net.state_dict());
        exact.to(ScalarType.Float64);
        var image = randn(4, 784, generator: new Generator(23));
        var labels = randint(0, 10, [4], generator: new Generator(24));

        var actual = PenaltyGradients(net, image, labels, net.parameters().Select(p => (Tensor)p).ToList(), ScalarType.Float32);
        var reference = PenaltyGradients(exact, image, labels, exact.parameters().Select(p => (Tensor)p).ToList(), ScalarType.Float64);
        AssertClose(actual.Input, reference.Input, "the penalty's gradient for the input", 1e-4);
        AssertClose(actual.Weight, reference.Weight, "the penalty's gradient for fc1's weight", 1e-4);
    }
}
