// Builds the tutorial's networks and prints them as PyTorch's print(net) would, with their sizes.
//   dotnet run --project examples/ModelSummary
using LeNetTorchSharp.Models;
using static TorchSharp.torch;

var lenet = new LeNet();
Console.WriteLine(lenet);
Console.WriteLine(lenet.CountParameters());
Console.WriteLine();

foreach (var (name, p) in lenet.named_parameters())
    Console.WriteLine($"{name,-12} [{string.Join(", ", p.shape)}]");
Console.WriteLine();

using (var output = lenet.call(randn(1, 1, 32, 32)))
    Console.WriteLine($"net(randn(1, 1, 32, 32)) -> [{string.Join(", ", output.shape)}]");
Console.WriteLine();

var mlp = new Mlp();
Console.WriteLine(mlp);
Console.WriteLine(mlp.CountParameters());
