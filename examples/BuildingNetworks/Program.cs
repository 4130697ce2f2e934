// PyTorch's "Building networks with nn" (MNIST, fully connected networks), step by step, in C#.
//   dotnet run --project examples/BuildingNetworks -- [output folder, default out] [MNIST folder, default data/mnist]
using BuildingNetworks;
using LeNetTorchSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

var outputFolder = args.Length > 0 ? args[0] : "out";
var mnistRoot = args.Length > 1 ? args[1] : LeNetTorchSharp.Data.MNIST.DefaultRoot;
manual_seed(0);
static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";

Console.WriteLine("12. MNIST, normalized with (0.5, 0.5); one shuffled batch of 64");
var (trainset, batch) = Steps.LoadBatch(mnistRoot);
var (images, labels) = (batch.Images, batch.Labels);
Console.WriteLine($"images {Shape(images)} {images.dtype}, labels {Shape(labels)}, pixel range [{images.min().item<float>()}, {images.max().item<float>()}]");
Console.WriteLine();

Console.WriteLine("13. One digit as an image (imshow)");
Console.WriteLine($"label {labels[1].item<long>()}: {Steps.SaveDigit(images, outputFolder)}");
Console.WriteLine();

Console.WriteLine("14. Flatten to 64 x 784; a 784 → 256 (sigmoid) → 10 network of raw weight tensors");
var (inputs, output) = Steps.RawWeightNetwork(images);
Console.WriteLine($"inputs {Shape(inputs)} → out {Shape(output)}");
Console.WriteLine();

Console.WriteLine("15. Softmax by hand: exp(x) / sum(exp(x), dim=1).view(-1, 1)");
var probabilities = Steps.SoftmaxByHand(output);
Console.WriteLine($"probabilities {Shape(probabilities)}; row sums: {probabilities.sum(1)[..5].ToString(TorchSharp.TensorStringStyle.Numpy)} ...");
Console.WriteLine($"max difference from torch.softmax: {(probabilities - functional.softmax(output, 1)).abs().max().item<float>():E2}");
Console.WriteLine();

Console.WriteLine("16. The same network as a class, and in the functional style");
var (network, functionalNetwork) = Steps.NetworkClasses();
Console.WriteLine(network);
Console.WriteLine(functionalNetwork);
Console.WriteLine($"forward: {Shape(network.call(inputs))}, rows sum to {network.call(inputs).sum(1).mean().item<float>():F4}");
Console.WriteLine();

Console.WriteLine("17. 784-128-64-10 with ReLU, softmax output");
var (model, ps) = Steps.ReluNetwork(inputs);
Console.WriteLine(model);
Console.WriteLine($"probabilities {Shape(ps)}");
Console.WriteLine();

Console.WriteLine("18. Custom initialisation: fc1.bias.fill_(0); fc1.weight.normal_(std=0.01)");
var fc1 = Steps.CustomInitialisation(model);
Console.WriteLine($"fc1.bias: all zero = {fc1.bias!.eq(0).all().item<bool>()}; fc1.weight: mean {fc1.weight!.mean().item<float>():F5}, std {fc1.weight.std().item<float>():F5}");
Console.WriteLine();

Console.WriteLine("19. Forward one image and draw view_classify (after one epoch of training, a few seconds)");
var (figure, imageProbabilities, label) = Steps.ViewClassifyFigure(trainset, images[0], labels[0].item<long>(), outputFolder);
Console.WriteLine($"label {label}, predicted {imageProbabilities.argmax().item<long>()} with p = {imageProbabilities.max().item<float>():F3}: {figure}");
Console.WriteLine();

Console.WriteLine("20. nn.Sequential from a list of layers; model[0]");
var sequential = Steps.SequentialFromList();
Console.WriteLine(sequential.Summary());
var first = (Linear)sequential[0];
Console.WriteLine($"model[0] = {first.Summary()}, weight {Shape(first.weight!)}");
Console.WriteLine();

Console.WriteLine("21. nn.Sequential with named layers; model.fc1 (TorchSharp has no string indexer: Layer(\"fc1\")) and model[0]");
var named = Steps.SequentialWithNames();
Console.WriteLine(named.Summary());
Console.WriteLine($"Layer(\"fc1\") = {named.Layer("fc1").Summary()}; same object as model[0]: {ReferenceEquals(named.Layer("fc1"), named[0])}");
