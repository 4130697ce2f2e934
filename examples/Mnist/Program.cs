// pytorch/examples' mnist/main.py on LeNet.TorchSharp: its flags, its train() and test(), its output.
//   dotnet run -c Release --project examples/Mnist -- [--epochs 14] [--batch-size 64] [--lr 1.0] [--dry-run] [--save-model] …
// Two differences, both deliberate: the model is the tutorial's LeNet (main.py defines a larger convnet of its
// own), and the training set is shuffled on every device (main.py shuffles only on an accelerator).
using System.Globalization;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.optim.lr_scheduler;

// (flag, default, help), as main.py's argparse declares them; a default of null marks a switch.
(string Name, string? Default, string Help)[] flags =
[
    ("--batch-size", "64", "input batch size for training"),
    ("--test-batch-size", "1000", "input batch size for testing"),
    ("--epochs", "14", "number of epochs to train"),
    ("--lr", "1.0", "learning rate"),
    ("--gamma", "0.7", "learning rate step gamma"),
    ("--no-accel", null, "disables accelerator (CUDA)"),
    ("--dry-run", null, "quickly check a single pass"),
    ("--seed", "1", "random seed"),
    ("--log-interval", "10", "how many batches to wait before logging training status"),
    ("--save-model", null, "for saving the current model (mnist_cnn.pt, readable by torch.load)"),
    ("--data", "data/mnist", "folder of the MNIST files (downloaded there if missing)"),
];
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("LeNet.TorchSharp MNIST Example\n\noptions:");
    foreach (var (name, value, help) in flags)
        Console.WriteLine($"  {name,-20} {help}{(value is null ? "" : $" (default: {value})")}");
    return 0;
}
var given = new Dictionary<string, string>();
for (var i = 0; i < args.Length; i++)
{
    var flag = flags.FirstOrDefault(f => f.Name == args[i]);
    if (flag.Name is null || (flag.Default is not null && i + 1 == args.Length))
    {
        Console.Error.WriteLine(flag.Name is null ? $"error: unrecognized argument '{args[i]}' (--help lists them)" : $"error: {args[i]} expects a value");
        return 2;
    }
    given[flag.Name] = flag.Default is null ? "true" : args[++i];
}
string Value(string name) => given.TryGetValue(name, out var value) ? value : flags.First(f => f.Name == name).Default ?? "false";
T Number<T>(string name, double least = double.Epsilon) where T : IParsable<T> =>
    T.TryParse(Value(name), CultureInfo.InvariantCulture, out var value) && double.Parse(Value(name), CultureInfo.InvariantCulture) is var d && d >= least && double.IsFinite(d)
        ? value : throw new ArgumentException($"{name}: expected a {(least > 0 ? "positive" : "non-negative")} {(typeof(T) == typeof(double) ? "number" : "whole number")}; found '{Value(name)}'");

try
{
    var (batchSize, testBatchSize, epochs, lr, gamma, seed, logInterval) = (Number<int>("--batch-size"), Number<int>("--test-batch-size"),
        Number<int>("--epochs"), Number<double>("--lr"), Number<double>("--gamma"), Number<long>("--seed", least: 0), Number<int>("--log-interval"));
    var (dryRun, saveModel) = (Value("--dry-run") == "true", Value("--save-model") == "true");

    var useAccel = Value("--no-accel") != "true" && cuda.is_available();
    manual_seed(seed);
    var device = useAccel ? CUDA : CPU;

    // transforms.Compose([ToTensor(), Normalize((0.1307,), (0.3081,))]): MNIST's bytes become [0, 1], then this.
    // imageSize 32: LeNet takes the tutorial's 32x32, resized once at load.
    var transform = Normalize.MnistStatistics;
    using var dataset1 = new MNIST(Value("--data"), train: true, download: true, transform: transform, imageSize: 32, device: device);
    using var dataset2 = new MNIST(Value("--data"), train: false, transform: transform, imageSize: 32, device: device);
    using var trainLoader = new TensorDataLoader(dataset1, batchSize, shuffle: true);
    using var testLoader = new TensorDataLoader(dataset2, testBatchSize);

    using var model = new LeNet().to(device);
    var optimizer = optim.Adadelta(model.parameters(), lr);
    var scheduler = StepLR(optimizer, step_size: 1, gamma: gamma);
    // The Trainer owns the loop body: zero_grad, forward, cross-entropy (main.py's log_softmax + nll_loss), backward, step.
    using var trainer = new Trainer(model, optimizer);

    for (var epoch = 1; epoch <= epochs; epoch++)
    {
        Train(trainer, trainLoader, epoch, logInterval, dryRun);
        Test(trainer, testLoader);
        scheduler.step();
    }

    if (saveModel) Weights.Save(model, "mnist_cnn.pt");
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}

static void Train(Trainer trainer, TensorDataLoader trainLoader, int epoch, int logInterval, bool dryRun)
{
    trainer.Model.train();
    foreach (var (batchIdx, (data, target)) in trainLoader.Index())
    {
        using var loss = trainer.Step(data, target);
        if (batchIdx % logInterval == 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Train Epoch: {epoch} [{batchIdx * data.shape[0]}/{trainLoader.dataset.Count} ({100.0 * batchIdx / trainLoader.Count:F0}%)]\tLoss: {loss.item<float>():F6}"));
            if (dryRun) break;
        }
    }
}

static void Test(Trainer trainer, TensorDataLoader testLoader)
{
    // model.eval(), no_grad, the loss summed over the set and divided by its size, argmax against the target.
    var result = trainer.Evaluate(testLoader);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"\nTest set: Average loss: {result.Loss:F4}, Accuracy: {result.Correct}/{result.Samples} ({100.0 * result.Correct / result.Samples:F0}%)\n"));
}
