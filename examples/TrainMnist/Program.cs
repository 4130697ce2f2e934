// Trains LeNet (or the MLP) on MNIST or Fashion-MNIST, and classifies your own images with the result.
//   dotnet run --project examples/TrainMnist -- --model lenet --epochs 3
//   dotnet run --project examples/TrainMnist -- predict --model runs/.../model.safetensors --image digit.png
// Every flag has a default that works; --help lists them.
return TrainMnist.Cli.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected);
