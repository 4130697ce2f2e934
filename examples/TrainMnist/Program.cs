// Trains LeNet (or the MLP) on MNIST or Fashion-MNIST, and classifies your own images with the result.
//   dotnet run --project examples/TrainMnist -- --model lenet --epochs 3
//   dotnet run --project examples/TrainMnist -- predict --model runs/.../model.safetensors --image digit.png
// Every flag has a default that works; --help lists them.

// glibc keeps freed tensor memory for the next step instead of handing it back (NativeHeap; README, "What this
// library does beyond TorchSharp"). A whole-process setting, so the program makes it, not the library.
LeNetTorchSharp.Native.NativeHeap.RetainFreedMemory();
return TrainMnist.Cli.Run(args, Console.Out, Console.Error, interactive: !Console.IsOutputRedirected);
