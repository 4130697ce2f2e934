// PyTorch's "Neural Networks" tutorial, step by step, in C#.
//   dotnet run --project examples/NeuralNetworks
using NeuralNetworks;
using LeNetTorchSharp.Models;
using static TorchSharp.torch;

manual_seed(0);
static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

Console.WriteLine("1. Define the network: print(net)");
var net = Steps.DefineNetwork();
Console.WriteLine(net);
Console.WriteLine();

Console.WriteLine("2. The learnable parameters: params = list(net.parameters())");
var parameters = Steps.LearnableParameters(net);
Console.WriteLine($"len(params) = {parameters.Count}");
Console.WriteLine($"params[0].size() = {Shape(parameters[0])}  # conv1's .weight");
Console.WriteLine();

Console.WriteLine("3. A random 32x32 input: out = net(input)");
var (input, output) = Steps.Forward(net);
Console.WriteLine($"out = {output.ToString(TorchSharp.TensorStringStyle.Numpy)}  shape {Shape(output)}");
Console.WriteLine();

Console.WriteLine("4. net.zero_grad(); out.backward(torch.randn(1, 10))");
Steps.BackwardWithRandomGradients(net, output);
Console.WriteLine($"every parameter has a gradient: {net.parameters().All(p => p.grad is not null)}");
Console.WriteLine();

Console.WriteLine("5. Models take mini-batches (N x C x H x W). One image of 1 x 32 x 32 without a batch dimension:");
var (error, batched) = Steps.MiniBatchRule(net);
Console.WriteLine($"   error: {error}");
Console.WriteLine($"   with image.unsqueeze(0): output {Shape(batched)}");
Console.WriteLine();

Console.WriteLine("6. Loss: criterion = nn.MSELoss(); loss = criterion(output, target)");
var (criterion, target, loss) = Steps.Loss(net, input);
Console.WriteLine($"loss = {loss.item<float>():F4}");
Console.WriteLine();

Console.WriteLine("7. Following the loss backwards (PyTorch: loss.grad_fn, .next_functions[0][0], ...)");
Console.WriteLine("   TorchSharp does not expose libtorch's autograd graph (no grad_fn). What the library offers instead:");
Console.WriteLine("   the operations recorded while the forward pass ran, walked back from the loss to the input. These are");
Console.WriteLine("   the operations autograd differentiates, named as PyTorch's grad_fn nodes, not the graph objects themselves.");
var trace = Steps.FollowLossBackwards(net, criterion, input, target);
Console.Write(trace.Backward());
Console.WriteLine($"   forward order: {trace}");
Console.WriteLine("   (each weight and bias ends in an AccumulateGrad node: that is where .grad is filled in)");
Console.WriteLine();

Console.WriteLine("8. Backprop: net.zero_grad(); loss.backward()");
var (before, after) = Steps.Backprop(net, criterion, input, target);
Console.WriteLine($"conv1.bias.grad before backward: {(before is null ? "None" : before.ToString(TorchSharp.TensorStringStyle.Numpy))}");
Console.WriteLine($"conv1.bias.grad after backward:  {after.ToString(TorchSharp.TensorStringStyle.Numpy)}");
Console.WriteLine();

Console.WriteLine("9. Update the weights by hand: weight = weight - learning_rate * gradient (under no_grad)");
var (lossBefore, lossAfter) = Steps.UpdateByHand(net, criterion, input, target);
Console.WriteLine($"loss on the same input: {lossBefore:F4} -> {lossAfter:F4}");
Console.WriteLine();

Console.WriteLine("10. The same with optim.SGD(net.parameters(), lr=0.01): zero_grad, forward, loss, backward, step");
Console.WriteLine($"losses: {string.Join(" -> ", Steps.TrainWithSgd(net, criterion, input, target).Select(l => l.ToString("F4")))}");
Console.WriteLine();

Console.WriteLine("11. Other update rules, one line each: new OptimizerSettings(OptimizerKind.Adam, LearningRate: 0.001) ...");
foreach (var (rule, losses) in Steps.OtherUpdateRules(input, target))
    Console.WriteLine($"   {rule,-15} {string.Join(" -> ", losses.Select(l => l.ToString("F4")))}");
