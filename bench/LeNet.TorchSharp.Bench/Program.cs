// Measures the library's training and evaluation speed and memory on real MNIST, through its public API
// (MNIST, TensorDataLoader, Trainer), and prints a table.
//   dotnet run -c Release --project bench/LeNet.TorchSharp.Bench -- [--data data/mnist] [--epochs 20] [--json out.json]
//     [--phases time-to-99,lenet,mlp,overhead,predict]
// The LeNet run (20 epochs by default) doubles as the memory soak: RSS after every epoch. bench/compare.sh runs
// the lenet and mlp phases only, in pairs with the PyTorch peer.
//
// Each measurement runs in a fresh child process (this program with --phase), so "time from process
// start" and "peak RSS" describe one training run, not the whole benchmark. A whole epoch is the unit,
// so this is a plain timed run rather than a BenchmarkDotNet suite, whose per-benchmark processes and
// warm-up iterations would multiply a minute of training into many. Timings on shared machines are
// comparable only within one run: bench/compare.sh runs the PyTorch peer (bench/pytorch_peer.py) beside it.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using LeNetTorchSharp;
using LeNetTorchSharp.Bench;
using LeNetTorchSharp.Native;

string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
var options = new BenchOptions(
    Arg("--data", "data/mnist"),
    int.Parse(Arg("--epochs", "20"), CultureInfo.InvariantCulture));

if (args.Contains("--print-batch-size"))
{
    // For compare.sh: the PyTorch peer runs with the same batch size as the default recipe.
    Console.WriteLine(TrainMnist.Recipe.Fast.BatchSize);
    return 0;
}

var phase = Arg("--phase", "");
if (phase.Length > 0)
{
    // Child process: run one phase, print its results as one JSON line.
    TorchNative.EnsureLoaded();
    // As the trainer program does at start (examples/TrainMnist/Program.cs).
    NativeHeap.RetainFreedMemory();
    Console.WriteLine(JsonSerializer.Serialize(Phases.Run(phase, options, Console.Error)));
    return 0;
}

var selected = Arg("--phases", string.Join(",", Phases.Names)).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
if (selected.Except(Phases.Names).FirstOrDefault() is { } unknown)
{
    Console.Error.WriteLine($"error: --phases: unknown phase '{unknown}'; the phases are {string.Join(", ", Phases.Names)}");
    return 2;
}
var results = new Dictionary<string, double>();
foreach (var name in Phases.Names.Where(selected.Contains))
{
    Console.WriteLine($"{name}...");
    foreach (var (key, value) in RunChild(name, options))
        results[key] = value;
}

Console.WriteLine();
Console.WriteLine($"| measure ({Environment.ProcessorCount} cores, CPU) | value |");
Console.WriteLine("|---|---|");
foreach (var (key, label, format) in Phases.Rows)
    if (results.TryGetValue(key, out var value))
        Console.WriteLine($"| {label} | {value.ToString(format, CultureInfo.InvariantCulture)} |");

var json = Arg("--json", "");
if (json.Length > 0)
    AtomicFile.Write(json, temp => File.WriteAllText(temp, JsonSerializer.Serialize(results)));
return 0;

static Dictionary<string, double> RunChild(string phase, BenchOptions options)
{
    var start = new ProcessStartInfo(Environment.ProcessPath!)
    {
        RedirectStandardOutput = true,
        UseShellExecute = false,
    };
    // Under `dotnet bench.dll` the process path is dotnet itself and the program is the first argument.
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        start.ArgumentList.Add(typeof(Phases).Assembly.Location);
    foreach (var a in new[] { "--phase", phase, "--data", options.DataRoot, "--epochs", options.Epochs.ToString(CultureInfo.InvariantCulture) })
        start.ArgumentList.Add(a);
    using var child = Process.Start(start)!;
    var output = child.StandardOutput.ReadToEnd();
    child.WaitForExit();
    if (child.ExitCode != 0)
        throw new InvalidOperationException($"benchmark phase {phase} failed with exit code {child.ExitCode}");
    return JsonSerializer.Deserialize<Dictionary<string, double>>(output.Trim().Split('\n')[^1])!;
}
