using LeNetTorchSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LeNetTorchSharp.Tests.Models;

/// <summary>Expected strings are repr(module) printed by PyTorch 1.13 for the same layers.</summary>
public class ModuleSummaryTests
{
    [Test]
    public void Sequential_of_the_tutorial_prints_as_PyTorch()
    {
        using var model = Sequential(Linear(784, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10), Softmax(dim: 1));
        Assert.That(model.Summary(), Is.EqualTo(
            "Sequential(\n  (0): Linear(in_features=784, out_features=128, bias=True)\n  (1): ReLU()\n  (2): Linear(in_features=128, out_features=64, bias=True)\n  (3): ReLU()\n  (4): Linear(in_features=64, out_features=10, bias=True)\n  (5): Softmax(dim=1)\n)"));
        Assert.That(model.CountParameters().Total, Is.EqualTo(109_386));
    }

    [Test]
    public void Named_Sequential_prints_its_names()
    {
        using var model = Sequential(
            ("fc1", Linear(784, 128)), ("relu1", ReLU()), ("fc2", Linear(128, 64)), ("relu2", ReLU()),
            ("output", Linear(64, 10)), ("softmax", Softmax(dim: 1)));
        Assert.That(model.Summary(), Is.EqualTo(
            "Sequential(\n  (fc1): Linear(in_features=784, out_features=128, bias=True)\n  (relu1): ReLU()\n  (fc2): Linear(in_features=128, out_features=64, bias=True)\n  (relu2): ReLU()\n  (output): Linear(in_features=64, out_features=10, bias=True)\n  (softmax): Softmax(dim=1)\n)"));
    }

    [Test]
    public void Layer_options_and_nesting_print_as_PyTorch()
    {
        using var model = Sequential(
            Conv2d(1, 6, 3, padding: 1, bias: false), MaxPool2d(2), Sigmoid(), Flatten(), Dropout(0.25),
            Conv2d(3, 8, (3, 5), stride: (2, 2), dilation: (2, 2)), ReLU(inplace: true),
            Sequential(Tanh(), LogSoftmax(dim: 1)), AvgPool2d(2), Identity());
        Assert.That(model.Summary(), Is.EqualTo(
            "Sequential(\n  (0): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)\n  (1): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)\n  (2): Sigmoid()\n  (3): Flatten(start_dim=1, end_dim=-1)\n  (4): Dropout(p=0.25, inplace=False)\n  (5): Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), dilation=(2, 2))\n  (6): ReLU(inplace=True)\n  (7): Sequential(\n    (0): Tanh()\n    (1): LogSoftmax(dim=1)\n  )\n  (8): AvgPool2d(kernel_size=2, stride=2, padding=0)\n  (9): Identity()\n)"));
        Assert.That(model.CountParameters().Total, Is.EqualTo(422));
    }

    sealed class Custom : Module<Tensor, Tensor>
    {
        public Custom() : base(nameof(Custom)) { }
        public override Tensor forward(Tensor input) => input;
    }

    [Test]
    public void Unknown_layer_types_print_their_name()
    {
        using var model = Sequential(("odd", new Custom()), ("norm", BatchNorm1d(4)));
        Assert.That(model.Summary(), Is.EqualTo("Sequential(\n  (odd): Custom()\n  (norm): BatchNorm1d()\n)"));
    }

    [Test]
    public void Frozen_parameters_are_counted_as_non_trainable()
    {
        using var net = new LeNet();
        foreach (var p in net.parameters().Take(2)) p.requires_grad = false;
        var count = net.CountParameters();
        Assert.That(count, Is.EqualTo(new ParameterCount(61_706, 61_706 - 156)));
        Assert.That(count.ToString(), Is.EqualTo("Total params: 61,706\nTrainable params: 61,550\nNon-trainable params: 156"));
    }

    [TestCase(0.5, "0.5")]
    [TestCase(1.0, "1.0")]
    [TestCase(1e-5, "1e-05")]
    [TestCase(0.1, "0.1")]
    public void Floats_print_as_Python_repr(double value, string expected) =>
        Assert.That(ModuleSummary.Py(value), Is.EqualTo(expected));
}
