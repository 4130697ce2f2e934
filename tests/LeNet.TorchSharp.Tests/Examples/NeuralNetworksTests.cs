using System.Globalization;
using System.Text.RegularExpressions;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>The "Neural Networks" tutorial (examples/NeuralNetworks): what each step prints, run as a user runs it.</summary>
public class NeuralNetworksTests
{
    ExampleProgram run = null!;

    [OneTimeSetUp]
    public void RunTheExample() => run = ExampleProgram.Run("NeuralNetworks");

    static float[] Numbers(string text) =>
        [.. Regex.Matches(text, @"-?\d+(\.\d+)?([eE][-+]?\d+)?").Select(m => float.Parse(m.Value, CultureInfo.InvariantCulture))];

    [Test]
    public void The_sections_are_the_tutorials_headings_in_order()
    {
        Assert.That(run.Sections.Keys, Is.EqualTo(new[] { "Define the network", "Loss Function", "Backprop", "Update the weights" }));
    }

    [Test]
    public void Define_the_network_prints_LeNet_as_PyTorch_prints_the_tutorials_Net()
    {
        Assert.That(run.Sections["Define the network"].Take(7), Is.EqualTo(new[]
        {
            "LeNet(",
            "  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))",
            "  (conv2): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))",
            "  (fc1): Linear(in_features=400, out_features=120, bias=True)",
            "  (fc2): Linear(in_features=120, out_features=84, bias=True)",
            "  (fc3): Linear(in_features=84, out_features=10, bias=True)",
            ")",
        }));
    }

    [Test]
    public void There_are_10_parameter_tensors_the_first_conv1s_6x1x5x5_weight()
    {
        Assert.That(run.Line("Define the network", "len(params)"), Is.EqualTo("len(params) = 10"));
        Assert.That(run.Line("Define the network", "params[0].size()"), Is.EqualTo("params[0].size() = [6, 1, 5, 5]  # conv1's .weight"));
    }

    [Test]
    public void A_random_1x1x32x32_input_gives_10_finite_outputs_and_backward_fills_every_gradient()
    {
        var output = Numbers(run.Line("Define the network", "out = ")["out = ".Length..]);
        Assert.That(output, Has.Length.GreaterThanOrEqualTo(6), "the numpy-style print shows the first and last values");
        Assert.That(output, Has.All.Matches<float>(float.IsFinite));
        Assert.That(run.Line("Define the network", "every parameter has a gradient"), Does.EndWith("True"));
    }

    [Test]
    public void An_image_without_a_batch_dimension_gets_the_clear_error_and_unsqueeze_fixes_it()
    {
        Assert.That(run.Line("Define the network", "net(image) without"),
            Does.Contain("LeNet expects input of shape [N, 1, 32, 32]; received [1, 32, 32] (a single image needs a batch dimension: image.unsqueeze(0))."));
        Assert.That(run.Line("Define the network", "net(image.unsqueeze(0))"), Is.EqualTo("net(image.unsqueeze(0)) = [1, 10]"));
    }

    [Test]
    public void The_MSE_loss_is_a_positive_number()
    {
        var loss = float.Parse(run.Line("Loss Function", "loss = ")["loss = ".Length..], CultureInfo.InvariantCulture);
        Assert.That(loss, Is.GreaterThan(0f).And.LessThan(10f));
    }

    [Test]
    public void Following_the_loss_backwards_shows_the_tutorials_three_nodes_and_the_modules()
    {
        Assert.That(run.Line("Loss Function", "loss.grad_fn"), Does.Contain("<MseLossBackward0>").And.Contain("(MSELoss)"));
        Assert.That(run.Line("Loss Function", ".next_functions[0][0] "), Does.Contain("<AddmmBackward0>").And.Contain("(fc3: Linear)"));
        Assert.That(run.Line("Loss Function", ".next_functions[0][0].next_functions[0][0]"), Does.Contain("<AccumulateGrad>").And.Contain("(fc3.bias)"));
        Assert.That(run.Line("Loss Function", "modules, loss first:"), Is.EqualTo(
            "modules, loss first: loss [] <- fc3 [1, 10] <- fc2 [1, 84] <- fc1 [1, 120] <- conv2 [1, 16, 10, 10] <- conv1 [1, 6, 28, 28] <- input [1, 1, 32, 32]"));
    }

    [Test]
    public void Backprop_conv1_bias_grad_is_None_before_and_six_values_not_all_zero_after()
    {
        Assert.That(run.Line("Backprop", "conv1.bias.grad before backward:"), Is.EqualTo("conv1.bias.grad before backward: None"));
        var after = Numbers(run.Line("Backprop", "conv1.bias.grad after backward:")["conv1.bias.grad after backward:".Length..]);
        Assert.That(after, Has.Length.EqualTo(6));
        Assert.That(after.Any(v => v != 0), Is.True);
    }

    [Test]
    public void Updating_by_hand_lowers_the_loss_on_the_same_input()
    {
        var losses = Numbers(run.Line("Update the weights", "loss after one update by hand:")["loss after one update by hand:".Length..]);
        Assert.That(losses, Has.Length.EqualTo(2));
        Assert.That(losses[1], Is.LessThan(losses[0]));
    }

    [Test]
    public void The_optim_SGD_loop_lowers_the_loss_every_step()
    {
        var losses = Numbers(run.Line("Update the weights", "optim.SGD, 5 steps:")["optim.SGD, 5 steps:".Length..]);
        Assert.That(losses, Has.Length.EqualTo(5));
        Assert.That(losses, Is.Ordered.Descending);
        Assert.That(losses.Distinct().Count(), Is.EqualTo(5));
    }

    [TestCase("SGD (Nesterov), 5 steps:")]
    [TestCase("Adam, 5 steps:")]
    [TestCase("RMSprop, 5 steps:")]
    public void Each_other_update_rule_through_the_Trainer_ends_lower_than_it_starts(string rule)
    {
        var losses = Numbers(run.Line("Update the weights", rule)[rule.Length..]);
        Assert.That(losses, Has.Length.EqualTo(5));
        Assert.That(losses[^1], Is.LessThan(losses[0]));
    }
}
