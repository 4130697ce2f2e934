using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace NeuralNetworks;

/// <summary>
/// PyTorch's "Neural Networks" tutorial (the 60-minute blitz), one method per step. Program.cs runs
/// them in order and prints what the tutorial prints; the tests call the same methods.
/// </summary>
public static class Steps
{
    /// <summary>Step 1: define the network. <c>Console.WriteLine(net)</c> prints it as PyTorch does.</summary>
    public static LeNet DefineNetwork() => new();

    /// <summary>Step 2: the learnable parameters, <c>list(net.parameters())</c>.</summary>
    public static IReadOnlyList<Parameter> LearnableParameters(LeNet net) => net.parameters().ToList();

    /// <summary>Step 3: a random 32x32 input, <c>out = net(input)</c>.</summary>
    public static (Tensor Input, Tensor Output) Forward(LeNet net)
    {
        var input = randn(1, 1, 32, 32);
        return (input, net.call(input));
    }

    /// <summary>Step 4: zero the gradient buffers, then backprop random gradients: <c>out.backward(torch.randn(1, 10))</c>.</summary>
    public static void BackwardWithRandomGradients(LeNet net, Tensor output)
    {
        net.zero_grad();
        output.backward([randn(1, 10)]);
    }

    /// <summary>Step 5: models take mini-batches. One image without a batch dimension is rejected;
    /// <c>unsqueeze(0)</c> adds the dimension.</summary>
    public static (string Error, Tensor Output) MiniBatchRule(LeNet net)
    {
        var image = randn(1, 32, 32);
        string error;
        try
        {
            net.call(image);
            error = "(no error)";
        }
        catch (ArgumentException e)
        {
            error = e.Message;
        }
        return (error, net.call(image.unsqueeze(0)));
    }

    /// <summary>Step 6: <c>criterion = nn.MSELoss(); loss = criterion(output, target)</c> with a dummy target.</summary>
    public static (MSELoss Criterion, Tensor Target, Tensor Loss) Loss(LeNet net, Tensor input)
    {
        var output = net.call(input);
        var target = randn(10).view(1, -1); // make it the same shape as output
        var criterion = MSELoss();
        return (criterion, target, criterion.call(output, target));
    }

    /// <summary>
    /// Step 7: follow the loss backwards. TorchSharp has no <c>loss.grad_fn</c>; an
    /// <see cref="OperationTrace"/> records each operation as the forward runs, which is the chain
    /// autograd walks back from the loss.
    /// </summary>
    public static OperationTrace FollowLossBackwards(LeNet net, MSELoss criterion, Tensor input, Tensor target)
    {
        var trace = OperationTrace.Start(net, criterion);
        criterion.call(net.call(input), target);
        trace.Dispose();
        return trace;
    }

    /// <summary>Step 8: <c>conv1.bias.grad</c> before and after <c>loss.backward()</c>.</summary>
    public static (Tensor? Before, Tensor After) Backprop(LeNet net, MSELoss criterion, Tensor input, Tensor target)
    {
        net.zero_grad(); // zeroes the gradient buffers of all parameters
        var bias = net.get_parameter("conv1.bias")!;
        var before = bias.grad?.clone();
        criterion.call(net.call(input), target).backward();
        return (before, bias.grad!.clone());
    }

    /// <summary>Step 9: the simplest update rule, <c>weight = weight - learning_rate * gradient</c>, by hand.
    /// Returns the loss on the same input before and after the update.</summary>
    public static (float Before, float After) UpdateByHand(LeNet net, MSELoss criterion, Tensor input, Tensor target, double learningRate = 0.01)
    {
        net.zero_grad();
        var loss = criterion.call(net.call(input), target);
        loss.backward();
        using (no_grad())
        {
            foreach (var f in net.parameters())
                f.sub_(f.grad! * learningRate);
        }
        using (no_grad())
            return (loss.item<float>(), criterion.call(net.call(input), target).item<float>());
    }

    /// <summary>Step 10: the same with <c>optim.SGD</c>: zero_grad, forward, loss, backward, step.
    /// Returns the loss of each iteration.</summary>
    public static float[] TrainWithSgd(LeNet net, MSELoss criterion, Tensor input, Tensor target, int iterations = 5)
    {
        var optimizer = optim.SGD(net.parameters(), learningRate: 0.01);
        var losses = new float[iterations];
        for (var i = 0; i < iterations; i++)
        {
            // in your training loop:
            optimizer.zero_grad();                          // zero the gradient buffers
            var output = net.call(input);
            var loss = criterion.call(output, target);
            loss.backward();
            optimizer.step();                               // does the update
            losses[i] = loss.item<float>();
        }
        return losses;
    }

    /// <summary>Step 11: the other update rules, one line each to switch. Returns each rule's losses
    /// over a few steps of the library's <see cref="Trainer"/> on the same input and target.</summary>
    public static IReadOnlyDictionary<string, float[]> OtherUpdateRules(Tensor input, Tensor target, int iterations = 5)
    {
        OptimizerSettings[] rules =
        [
            new(OptimizerKind.Sgd, LearningRate: 0.01, Momentum: 0.9, Nesterov: true),
            new(OptimizerKind.Adam, LearningRate: 0.001),
            new(OptimizerKind.RMSprop, LearningRate: 0.001),
        ];
        var results = new Dictionary<string, float[]>();
        foreach (var rule in rules)
        {
            manual_seed(1);
            using var net = new LeNet();
            using var trainer = new Trainer(net, rule, criterion: MSELoss());
            results[rule.Nesterov ? "SGD (Nesterov)" : rule.Kind.ToString()] =
                Enumerable.Range(0, iterations).Select(_ => trainer.Step(input, target).item<float>()).ToArray();
        }
        return results;
    }
}
