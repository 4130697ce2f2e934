namespace LeNetTorchSharp.Bench;

/// <summary>What the benchmark reads and how long it runs.</summary>
/// <param name="DataRoot">The MNIST folder.</param>
/// <param name="Epochs">Epochs of the LeNet memory and speed run.</param>
public sealed record BenchOptions(string DataRoot, int Epochs);
