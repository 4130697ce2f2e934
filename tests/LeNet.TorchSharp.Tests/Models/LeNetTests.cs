using LeNetTorchSharp.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace LeNetTorchSharp.Tests.Models;

public class LeNetTests
{
    [Test]
    public void Default_LeNet_has_10_parameter_tensors_the_first_6x1x5x5()
    {
        using var net = new LeNet();
        var parameters = net.parameters().ToList();
        Assert.That(parameters, Has.Count.EqualTo(10));
        Assert.That(parameters[0].shape, Is.EqualTo(new long[] { 6, 1, 5, 5 }));
    }

    [Test]
    public void Default_LeNet_has_61706_parameters_all_trainable()
    {
        using var net = new LeNet();
        Assert.That(net.CountParameters(), Is.EqualTo(new ParameterCount(61_706, 61_706)));
    }

    [Test]
    public void LeNet_with_3x3_kernels_has_81194_parameters_and_fc1_takes_576_inputs()
    {
        using var net = new LeNet(new LeNetOptions { KernelSize = 3 });
        Assert.That(net.CountParameters().Total, Is.EqualTo(81_194));
        Assert.That(net.get_parameter("fc1.weight")!.shape, Is.EqualTo(new long[] { 120, 576 }));
        using var output = net.forward(randn(2, 1, 32, 32));
        Assert.That(output.shape, Is.EqualTo(new long[] { 2, 10 }));
    }

    [Test]
    public void LeNet_with_fc1_1200_and_fc2_84_has_585506_parameters()
    {
        using var net = new LeNet(new LeNetOptions { Fc1 = 1200, Fc2 = 84 });
        Assert.That(net.CountParameters().Total, Is.EqualTo(585_506));
    }

    [Test]
    public void Parameter_names_are_the_state_dict_keys_of_the_PyTorch_tutorial_Net()
    {
        using var net = new LeNet();
        string[] keys = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
            "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"];
        Assert.That(net.named_parameters().Select(p => p.name), Is.EqualTo(keys));
        Assert.That(net.state_dict().Keys, Is.EqualTo(keys));
    }

    [TestCase(1)]
    [TestCase(64)]
    public void Forward_of_N_images_gives_N_by_10_logits(int n)
    {
        using var net = new LeNet();
        using var output = net.forward(randn(n, 1, 32, 32));
        Assert.That(output.shape, Is.EqualTo(new long[] { n, 10 }));
        Assert.That(output.isfinite().all().item<bool>(), Is.True);
    }

    [Test]
    public void An_image_without_batch_dimension_is_rejected_with_both_shapes_and_the_unsqueeze_hint()
    {
        using var net = new LeNet();
        var error = Assert.Throws<ArgumentException>(() => net.forward(randn(1, 32, 32)));
        Assert.That(error!.Message, Does.StartWith(
            "LeNet expects input of shape [N, 1, 32, 32]; received [1, 32, 32] (a single image needs a batch dimension: image.unsqueeze(0))."));
        Assert.That(error.ParamName, Is.EqualTo("input"));
    }

    [Test]
    public void A_28x28_MNIST_image_is_rejected_naming_the_32x32_LeNet_expects()
    {
        using var net = new LeNet();
        var error = Assert.Throws<ArgumentException>(() => net.forward(randn(8, 1, 28, 28)));
        Assert.That(error!.Message, Does.StartWith("LeNet expects input of shape [N, 1, 32, 32]; received [8, 1, 28, 28]"));
    }

    [TestCase(true)]
    [TestCase(false)]
    public void Logits_and_gradients_are_the_bits_of_the_tutorials_relu_then_pool(bool poolKernel)
    {
        // The convolution and fully connected kernels add in another order (InputConv2dTests, Conv2GradientsTests,
        // LinearKernelTests): off here, where bits are compared.
        using var net = new LeNet(new LeNetOptions { UseMaxPoolKernel = poolKernel, UseConv1Kernel = false, UseConv2Kernel = false, UseLinearKernel = false });
        // Inputs that make whole windows negative, and windows of equal values (zeros after the ReLU).
        using var input = cat([randn(6, 1, 32, 32) * 3 - 2, zeros(1, 1, 32, 32), full(1, 1, 32, 32, -1f)]);
        using var gradOutput = randn(8, 10);

        net.zero_grad();
        using var output = net.forward(input);
        output.backward([gradOutput]);
        var grads = net.named_parameters().Select(p => (p.name, p.parameter.grad!.clone())).ToList();

        // The tutorial's forward, in libtorch's functional operations on the same parameters.
        var w = net.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Tensor Tutorial(Tensor x)
        {
            x = F.max_pool2d(F.relu(F.conv2d(x, w["conv1.weight"], w["conv1.bias"])), [2, 2]);
            x = F.max_pool2d(F.relu(F.conv2d(x, w["conv2.weight"], w["conv2.bias"])), [2, 2]);
            x = flatten(x, 1);
            x = F.relu(F.linear(x, w["fc1.weight"], w["fc1.bias"]));
            x = F.relu(F.linear(x, w["fc2.weight"], w["fc2.bias"]));
            return F.linear(x, w["fc3.weight"], w["fc3.bias"]);
        }
        net.zero_grad();
        using var expected = Tutorial(input);
        expected.backward([gradOutput]);

        Assert.That(Same(output, expected), Is.True, "logits");
        foreach (var (name, grad) in grads)
        {
            Assert.That(grad.abs().sum().item<float>(), Is.GreaterThan(0f), name);
            Assert.That(Same(grad, w[name].grad!), Is.True, name);
        }

        // A NaN pixel: NaN where the tutorial's order gives NaN, the same bits elsewhere.
        input[0, 0, 5, 7] = tensor(float.NaN);
        using var withNaN = net.forward(input);
        using (no_grad())
        {
            using var expectedNaN = Tutorial(input);
            Assert.That(withNaN[0].isnan().all().item<bool>(), Is.True, "the NaN image's logits");
            Assert.That((withNaN.eq(expectedNaN) | (withNaN.isnan() & expectedNaN.isnan())).all().item<bool>(), Is.True, "logits with a NaN");
        }
    }

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    [Test]
    public void After_backward_every_parameter_has_a_gradient()
    {
        using var net = new LeNet();
        net.zero_grad();
        using var output = net.forward(randn(1, 1, 32, 32));
        output.backward([randn(1, 10)]);
        foreach (var (name, p) in net.named_parameters())
        {
            Assert.That(p.grad, Is.Not.Null, name);
            Assert.That(p.grad!.shape, Is.EqualTo(p.shape), name);
            Assert.That(p.grad.abs().sum().item<float>(), Is.GreaterThan(0f), name);
        }
    }

    [Test]
    public void Print_equals_PyTorch_print_of_the_tutorial_net()
    {
        using var net = new LeNet();
        // repr(LeNet()) from PyTorch 1.13 for the tutorial's class named LeNet.
        Assert.That(net.ToString(), Is.EqualTo(
            "LeNet(\n  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))\n  (fc1): Linear(in_features=400, out_features=120, bias=True)\n  (fc2): Linear(in_features=120, out_features=84, bias=True)\n  (fc3): Linear(in_features=84, out_features=10, bias=True)\n)"));
    }

    [Test]
    public void Print_of_the_3x3_variant_equals_PyTorch_print()
    {
        using var net = new LeNet(new LeNetOptions { KernelSize = 3 });
        Assert.That(net.ToString(), Is.EqualTo(
            "LeNet(\n  (conv1): Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))\n  (conv2): Conv2d(6, 16, kernel_size=(3, 3), stride=(1, 1))\n  (fc1): Linear(in_features=576, out_features=120, bias=True)\n  (fc2): Linear(in_features=120, out_features=84, bias=True)\n  (fc3): Linear(in_features=84, out_features=10, bias=True)\n)"));
    }

    [Test]
    public void Options_that_leave_no_feature_map_are_rejected_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => new LeNet(new LeNetOptions { InputSize = 12 }));
        Assert.That(error!.ParamName, Is.EqualTo("InputSize"));
        Assert.That(error.Message, Does.Contain("12x12"));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LeNet(new LeNetOptions { Fc1 = 0 }));
    }
}
