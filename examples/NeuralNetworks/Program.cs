// PyTorch's "Neural Networks" tutorial (the 60-minute blitz) in C#, step by step, under the tutorial's headings.
//   dotnet run --project examples/NeuralNetworks
// Each step prints what the tutorial prints; tests/…/Examples/NeuralNetworksTests.cs asserts every one.
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using NeuralNetworks;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

manual_seed(0);
static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";
static string Show(Tensor t) => t.ToString(TorchSharp.TensorStringStyle.Numpy);

// ## Define the network
// The library's LeNet is the tutorial's Net: two convolutions, each followed by ReLU and a 2x2 max-pool, then
// three linear layers, with the same layer names (conv1 … fc3). You define forward; autograd defines backward.
Console.WriteLine("## Define the network");
var net = new LeNet();
Console.WriteLine(net);

// The learnable parameters of a model are returned by net.parameters().
var parameters = net.parameters().ToList();
Console.WriteLine($"len(params) = {parameters.Count}");
Console.WriteLine($"params[0].size() = {Shape(parameters[0])}  # conv1's .weight");

// Let's try a random 32x32 input (LeNet's input size: resize MNIST's 28x28 images to 32x32 to use it there).
// Layers are called with call(), PyTorch's __call__, which runs the module's hooks around forward().
var input = randn(1, 1, 32, 32);
var output = net.call(input);
Console.WriteLine($"out = {Show(output)}");

// Zero the gradient buffers of all parameters and backprop with random gradients.
net.zero_grad();
output.backward([randn(1, 10)]);
Console.WriteLine($"every parameter has a gradient: {net.parameters().All(p => p.grad is not null)}");

// torch.nn only supports mini-batches: a single sample needs a fake batch dimension, input.unsqueeze(0).
var image = randn(1, 32, 32);
try
{
    net.call(image);
}
catch (ArgumentException e)
{
    Console.WriteLine($"net(image) without a batch dimension: {e.Message}");
}
Console.WriteLine($"net(image.unsqueeze(0)) = {Shape(net.call(image.unsqueeze(0)))}");
Console.WriteLine();

// ## Loss Function
// A loss function takes the (output, target) pair and estimates how far the output is from the target.
Console.WriteLine("## Loss Function");
output = net.call(input);
var target = randn(10);      // a dummy target, for example
target = target.view(1, -1); // make it the same shape as output
var criterion = MSELoss();
var loss = criterion.call(output, target);
Console.WriteLine($"loss = {loss.item<float>():F4}");

// Following loss backwards: PyTorch's loss.grad_fn and its next_functions. TorchSharp does not expose the
// autograd graph, so forward hooks record which layer produced which tensor instead (GradFnTrace.cs).
using (var trace = new GradFnTrace(net, criterion))
{
    criterion.call(net.call(input), target);
    Console.Write(trace.GradFn());
    Console.WriteLine($"modules, loss first: {trace}");
}
Console.WriteLine();

// ## Backprop
// Clear the existing gradients first, else they are accumulated to the existing ones.
Console.WriteLine("## Backprop");
net.zero_grad();
var conv1Bias = net.get_parameter("conv1.bias")!;
Console.WriteLine($"conv1.bias.grad before backward: {(conv1Bias.grad is null ? "None" : Show(conv1Bias.grad))}");
loss.backward();
Console.WriteLine($"conv1.bias.grad after backward: {Show(conv1Bias.grad!)}");
Console.WriteLine();

// ## Update the weights
// The simplest update rule, stochastic gradient descent: weight = weight - learning_rate * gradient.
Console.WriteLine("## Update the weights");
var learningRate = 0.01;
using (no_grad())
{
    foreach (var f in net.parameters())
        f.sub_(f.grad! * learningRate);
}
using (no_grad())
    Console.WriteLine($"loss after one update by hand: {loss.item<float>():F4} -> {criterion.call(net.call(input), target).item<float>():F4}");

// torch.optim implements the update rules: create the optimizer, then in the training loop zero the
// gradient buffers, forward, loss, backward, step.
var optimizer = optim.SGD(net.parameters(), learningRate: 0.01);
var losses = new List<float>();
for (var i = 0; i < 5; i++)
{
    // in your training loop:
    optimizer.zero_grad();   // zero the gradient buffers
    output = net.call(input);
    loss = criterion.call(output, target);
    loss.backward();
    optimizer.step();        // does the update
    losses.Add(loss.item<float>());
}
Console.WriteLine($"optim.SGD, 5 steps: {string.Join(" -> ", losses.Select(l => l.ToString("F4")))}");

// Other update rules are one line each: Nesterov-SGD, Adam, RMSprop. The library's Trainer runs the same loop
// (zero_grad, forward, loss, backward, step) for any of them: trainer.Step(input, target).
(string Name, Func<LeNet, optim.Optimizer> Create)[] rules =
[
    ("SGD (Nesterov)", n => optim.SGD(n.parameters(), 0.01, momentum: 0.9, nesterov: true)),
    ("Adam", n => optim.Adam(n.parameters(), 0.001)),
    ("RMSprop", n => optim.RMSProp(n.parameters(), 0.001)),
];
foreach (var (name, create) in rules)
{
    manual_seed(1);
    using var model = new LeNet();
    using var trainer = new Trainer(model, create(model), criterion: MSELoss());
    var steps = Enumerable.Range(0, 5).Select(_ => trainer.Step(input, target).item<float>());
    Console.WriteLine($"{name}, 5 steps: {string.Join(" -> ", steps.Select(l => l.ToString("F4")))}");
}
