// PyTorch's "Building networks with nn" (MNIST, fully connected networks) in C#, step by step, under the
// tutorial's headings.
//   dotnet run --project examples/BuildingNetworks -- [figures folder, default out] [MNIST folder, default data/mnist]
// Each step prints what the tutorial shows; tests/…/Examples/BuildingNetworksTests.cs asserts every one.
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Plots;
using LeNetTorchSharp.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

var figures = args.Length > 0 ? args[0] : "out";
var mnistRoot = args.Length > 1 ? args[1] : "data/mnist";
manual_seed(0);
static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

// ## Neural networks with PyTorch
// MNIST: 28x28 grayscale digits. Each image becomes floats in [0, 1], then Normalize((0.5,), (0.5,)) maps them
// to [-1, 1] (any torchvision.ITransform fits here; torchvision.transforms.Normalize([0.5], [0.5]) gives the
// same tensors). The loader gives shuffled batches of 64.
Console.WriteLine("## Neural networks with PyTorch");
using var trainset = new MNIST(mnistRoot, train: true, download: true, transform: Normalize.Tutorial);
using var trainloader = new TensorDataLoader(trainset, batchSize: 64, shuffle: true, disposeBatch: false);
var (images, labels) = trainloader.First();
Console.WriteLine($"images {Shape(images)} {images.dtype}, labels {Shape(labels)}, pixels in [{images.min().item<float>()}, {images.max().item<float>()}]");

// plt.imshow(images[1].numpy().squeeze(), cmap='Greys_r'), to a PNG.
var digit = Path.Combine(figures, "digit.png");
ImagePng.Save(images[1], digit);
Console.WriteLine($"images[1], a {labels[1].item<long>()}: {digit}");

// A network of raw weight tensors: flatten each image to 784 values, then 784 -> 256 (sigmoid) -> 10.
var inputs = images.view(images.shape[0], -1);
var w1 = randn(784, 256);
var b1 = randn(256);
var w2 = randn(256, 10);
var b2 = randn(10);
var h = sigmoid(mm(inputs, w1) + b1);
var output = mm(h, w2) + b2;
Console.WriteLine($"inputs {Shape(inputs)} -> out {Shape(output)}");

// Softmax by hand: exp(x) is 64 x 10 and its row sums are 64 values, so the sums are viewed as a 64 x 1 column
// to divide each row by its own sum.
static Tensor SoftmaxByHand(Tensor x) => exp(x) / sum(exp(x), dim: 1).view(-1, 1);
var probabilities = SoftmaxByHand(output);
Console.WriteLine($"probabilities {Shape(probabilities)}; first row sums: {probabilities.sum(1)[..5].ToString(TorchSharp.TensorStringStyle.Numpy)}");
Console.WriteLine($"largest difference from torch.softmax: {(probabilities - functional.softmax(output, 1)).abs().max().item<float>():E2}");
Console.WriteLine();

// ## Building networks with PyTorch
// The same network as a class, every operation a module: Network, at the end of this file (C# puts type
// declarations after the statements). Then the functional style, where only the linear layers are modules.
Console.WriteLine("## Building networks with PyTorch");
var network = new Network();
Console.WriteLine(network);
Console.WriteLine($"{network.CountParameters().Total:N0} parameters; rows of network(inputs) sum to {network.call(inputs).sum(1).mean().item<float>():F4}");
var functionalNetwork = new FunctionalNetwork();
Console.WriteLine(functionalNetwork);
Console.WriteLine($"functional: {functionalNetwork.CountParameters().Total:N0} parameters; output {Shape(functionalNetwork.call(inputs))}");
Console.WriteLine();

// ## Activation functions
// 784 -> 128 (ReLU) -> 64 (ReLU) -> 10: the library's Mlp, layers fc1, fc2, fc3; softmax on its logits.
Console.WriteLine("## Activation functions");
var model = new Mlp();
Console.WriteLine(model);
Console.WriteLine($"{model.CountParameters().Total:N0} parameters; probabilities {Shape(functional.softmax(model.call(inputs), dim: 1))}");
Console.WriteLine();

// ## Initializing weights and biases
// model.fc1.bias.data.fill_(0); model.fc1.weight.data.normal_(std=0.01). TorchSharp has no attribute access
// to layers: get_submodule<Linear>("fc1") finds one by name, as PyTorch's get_submodule. Changing parameters in
// place needs no_grad.
Console.WriteLine("## Initializing weights and biases");
var fc1 = model.get_submodule<Linear>("fc1");
using (no_grad())
{
    fc1.bias!.fill_(0);
    fc1.weight!.normal_(mean: 0, std: 0.01);
}
Console.WriteLine($"fc1.bias all zero: {fc1.bias!.eq(0).all().item<bool>()}; fc1.weight mean {fc1.weight!.mean().item<float>():F5}, std {fc1.weight.std().item<float>():F5}");
Console.WriteLine();

// ## Forward pass
// One image through the untrained network: it has basically no idea what the digit is.
Console.WriteLine("## Forward pass");
var img = images[0].view(1, 784);
Tensor ps;
using (no_grad())
    ps = functional.softmax(model.call(img), dim: 1);
var untrained = Path.Combine(figures, "view_classify_untrained.png");
ViewClassify.Save(img.view(1, 28, 28), ps, untrained, trainset.classes);
Console.WriteLine($"untrained: label {labels[0].item<long>()}, highest probability {ps.max().item<float>():F3}: {untrained}");

// Beyond the tutorial's cell: one epoch of training (a few seconds) with the library's Trainer, then the same image.
using (var loader = new TensorDataLoader(trainset, batchSize: 64, shuffle: true, seed: 7))
using (var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.05, momentum: 0.9)))
    trainer.TrainEpoch(loader);
using (no_grad())
    ps = functional.softmax(model.call(img), dim: 1);
var trained = Path.Combine(figures, "view_classify.png");
ViewClassify.Save(img.view(1, 28, 28), ps, trained, trainset.classes);
Console.WriteLine($"after one epoch: label {labels[0].item<long>()}, predicted {ps.argmax().item<long>()} with p = {ps.max().item<float>():F3}: {trained}");
Console.WriteLine();

// ## Using nn.Sequential
// Layers in a list, run in order; model[0] is the first.
Console.WriteLine("## Using nn.Sequential");
var sequential = Sequential(Linear(784, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10), Softmax(dim: 1));
Console.WriteLine(sequential.Summary());
var first = (Linear)sequential[0];
Console.WriteLine($"model[0] = {first.Summary()}, weight {Shape(first.weight!)}; output {Shape(sequential.call(inputs))}");

// Named layers, as with an OrderedDict: model.fc1 in PyTorch is get_submodule("fc1") here, the same object as model[0].
var named = Sequential(
    ("fc1", Linear(784, 128)),
    ("relu1", ReLU()),
    ("fc2", Linear(128, 64)),
    ("relu2", ReLU()),
    ("output", Linear(64, 10)),
    ("softmax", Softmax(dim: 1)));
Console.WriteLine(named.Summary());
Console.WriteLine($"get_submodule(\"fc1\") = {named.get_submodule("fc1").Summary()}; the same object as model[0]: {ReferenceEquals(named.get_submodule("fc1"), named[0])}");

/// <summary>The tutorial's <c>Network</c>: 784-256-10 with sigmoid and softmax, every operation a module.</summary>
sealed class Network : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // PyTorch's attribute names: they become the state_dict keys.
    private readonly Linear hidden;
    private readonly Linear output;
    private readonly Sigmoid sigmoid;
    private readonly Softmax softmax;
#pragma warning restore IDE1006

    public Network() : base(nameof(Network))
    {
        // Inputs to hidden layer linear transformation
        hidden = Linear(784, 256);
        // Output layer, 10 units - one for each digit
        output = Linear(256, 10);
        // Define sigmoid activation and softmax output
        sigmoid = Sigmoid();
        softmax = Softmax(dim: 1);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Pass the input tensor through each of our operations
        x = hidden.call(x);
        x = sigmoid.call(x);
        x = output.call(x);
        x = softmax.call(x);
        return x;
    }

    public override string ToString() => this.Summary();
}

/// <summary>The same network in the functional style: only the linear layers are modules.</summary>
sealed class FunctionalNetwork : Module<Tensor, Tensor>
{
#pragma warning disable IDE1006
    private readonly Linear hidden;
    private readonly Linear output;
#pragma warning restore IDE1006

    public FunctionalNetwork() : base("Network")
    {
        hidden = Linear(784, 256);
        output = Linear(256, 10);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        // Hidden layer with sigmoid activation, output layer with softmax activation
        x = functional.sigmoid(hidden.call(x));
        x = functional.softmax(output.call(x), dim: 1);
        return x;
    }

    public override string ToString() => this.Summary();
}
