using LeNetTorchSharp.Models;
using NeuralNetworks;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>Part A of the tutorial ("Neural Networks"): each step of examples/NeuralNetworks.</summary>
public class NeuralNetworksTests
{
    [SetUp]
    public void Seed() => manual_seed(0);

    [Test]
    public void Step01_the_network_prints_as_PyTorch_prints_it()
    {
        using var net = Steps.DefineNetwork();
        Assert.That(net.ToString(), Does.StartWith("LeNet(\n  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n"));
        Assert.That(net.ToString(), Does.EndWith("  (fc3): Linear(in_features=84, out_features=10, bias=True)\n)"));
    }

    [Test]
    public void Step02_there_are_10_parameter_tensors_the_first_6x1x5x5()
    {
        using var net = Steps.DefineNetwork();
        var parameters = Steps.LearnableParameters(net);
        Assert.That(parameters, Has.Count.EqualTo(10));
        Assert.That(parameters[0].shape, Is.EqualTo(new long[] { 6, 1, 5, 5 }));
    }

    [Test]
    public void Step03_a_1x1x32x32_input_gives_a_1x10_output()
    {
        using var net = Steps.DefineNetwork();
        var (input, output) = Steps.Forward(net);
        Assert.That(input.shape, Is.EqualTo(new long[] { 1, 1, 32, 32 }));
        Assert.That(output.shape, Is.EqualTo(new long[] { 1, 10 }));
    }

    [Test]
    public void Step04_after_backward_with_random_gradients_every_parameter_has_a_gradient()
    {
        using var net = Steps.DefineNetwork();
        var (_, output) = Steps.Forward(net);
        Steps.BackwardWithRandomGradients(net, output);
        Assert.That(net.parameters().Select(p => p.grad?.shape), Is.EqualTo(net.parameters().Select(p => p.shape)));
    }

    [Test]
    public void Step05_an_image_without_batch_dimension_gets_the_clear_error_and_unsqueeze_fixes_it()
    {
        using var net = Steps.DefineNetwork();
        var (error, output) = Steps.MiniBatchRule(net);
        Assert.That(error, Does.StartWith("LeNet expects input of shape [N, 1, 32, 32]; received [1, 32, 32] (a single image needs a batch dimension: image.unsqueeze(0))."));
        Assert.That(output.shape, Is.EqualTo(new long[] { 1, 10 }));
    }

    [Test]
    public void Step06_MSE_loss_against_a_1x10_target_is_the_mean_squared_difference()
    {
        using var net = Steps.DefineNetwork();
        var (input, output) = Steps.Forward(net);
        var (_, target, loss) = Steps.Loss(net, input);
        Assert.That(target.shape, Is.EqualTo(new long[] { 1, 10 }));
        Assert.That(loss.shape, Is.Empty);
        Assert.That(loss.item<float>(), Is.EqualTo((output - target).pow(2).mean().item<float>()).Within(1e-5));
    }

    [Test]
    public void Step07_the_trace_walks_from_the_loss_back_to_the_input_through_every_operation()
    {
        using var net = Steps.DefineNetwork();
        var (input, _) = Steps.Forward(net);
        var (criterion, target, _) = Steps.Loss(net, input);

        var trace = Steps.FollowLossBackwards(net, criterion, input, target);

        Assert.That(trace.ToString(), Is.EqualTo(
            "input -> conv2d -> relu -> max_pool2d -> conv2d -> relu -> max_pool2d -> flatten -> linear -> relu -> linear -> relu -> linear -> mse_loss"));
        Assert.That(trace.Operations[^1].PyTorchBackward, Is.EqualTo("MseLossBackward0"));
        Assert.That(trace.Operations[^2], Is.EqualTo(new TracedOperation("linear", "fc3", [1, 10])).Using<TracedOperation>((a, b) =>
            a.Name == b.Name && a.Module == b.Module && a.OutputShape.SequenceEqual(b.OutputShape)));
        Assert.That(trace.Operations[^2].PyTorchBackward, Is.EqualTo("AddmmBackward0"));
        var lines = trace.Backward().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.Contain("mse_loss").And.Contain("MseLossBackward0"));
        Assert.That(lines[^1], Does.Contain("input").And.Contain("[1, 1, 32, 32]"));
    }

    [Test]
    public void Step07_a_finished_trace_records_nothing_more()
    {
        using var net = Steps.DefineNetwork();
        var (input, _) = Steps.Forward(net);
        var (criterion, target, _) = Steps.Loss(net, input);
        var trace = Steps.FollowLossBackwards(net, criterion, input, target);
        var count = trace.Operations.Count;
        net.call(input);
        Assert.That(trace.Operations, Has.Count.EqualTo(count));
    }

    [Test]
    public void Step08_conv1_bias_grad_is_none_before_backward_and_non_zero_after()
    {
        using var net = Steps.DefineNetwork();
        var (input, _) = Steps.Forward(net);
        var (criterion, target, _) = Steps.Loss(net, input);
        var (before, after) = Steps.Backprop(net, criterion, input, target);
        Assert.That(before is null || before.abs().sum().item<float>() == 0, Is.True);
        Assert.That(after.shape, Is.EqualTo(new long[] { 6 }));
        Assert.That(after.abs().sum().item<float>(), Is.GreaterThan(0f));
    }

    [Test]
    public void Step09_updating_by_hand_lowers_the_loss_on_the_same_input()
    {
        using var net = Steps.DefineNetwork();
        var (input, _) = Steps.Forward(net);
        var (criterion, target, _) = Steps.Loss(net, input);
        var (before, after) = Steps.UpdateByHand(net, criterion, input, target);
        Assert.That(after, Is.LessThan(before));
    }

    [Test]
    public void Step10_the_SGD_loop_drives_the_loss_down_every_iteration()
    {
        using var net = Steps.DefineNetwork();
        var (input, _) = Steps.Forward(net);
        var (criterion, target, _) = Steps.Loss(net, input);
        var losses = Steps.TrainWithSgd(net, criterion, input, target);
        Assert.That(losses, Has.Length.EqualTo(5));
        Assert.That(losses, Is.Ordered.Descending);
        Assert.That(losses.Distinct().Count(), Is.EqualTo(5));
    }

    [Test]
    public void Step11_Nesterov_SGD_Adam_and_RMSprop_each_lower_the_loss()
    {
        var (input, _) = Steps.Forward(Steps.DefineNetwork());
        var target = randn(1, 10);
        var results = Steps.OtherUpdateRules(input, target);
        Assert.That(results.Keys, Is.EqualTo(new[] { "SGD (Nesterov)", "Adam", "RMSprop" }));
        foreach (var (rule, losses) in results)
            Assert.That(losses[^1], Is.LessThan(losses[0]), rule);
    }
}
