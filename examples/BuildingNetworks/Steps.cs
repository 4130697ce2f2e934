using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Training;
using LeNetTorchSharp.Visualization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace BuildingNetworks;

/// <summary>
/// The tutorial's "Building networks with nn" (MNIST at 28x28, fully connected networks), one method per
/// step. Program.cs runs them in order and prints what the tutorial shows; the tests call the same methods.
/// </summary>
public static class Steps
{
    /// <summary>Step 12: MNIST with <c>Normalize((0.5,), (0.5,))</c> and one shuffled batch of 64.</summary>
    public static (MNIST TrainSet, Batch Batch) LoadBatch(string root, long seed = 0)
    {
        var trainset = new MNIST(root, train: true, download: true, transform: Normalize.Tutorial);
        using var trainloader = new TensorDataLoader(trainset, batchSize: 64, shuffle: true, seed: seed);
        return (trainset, trainloader.Epoch().First());
    }

    /// <summary>Step 13: <c>plt.imshow(images[1].numpy().squeeze(), cmap='Greys_r')</c>, to a PNG.</summary>
    public static string SaveDigit(Tensor images, string outputFolder)
    {
        var path = Path.Combine(outputFolder, "digit.png");
        ImagePng.Save(images[1], path);
        return path;
    }

    /// <summary>Step 14: flatten the batch and run it through a network made of raw weight tensors.</summary>
    public static (Tensor Inputs, Tensor Output) RawWeightNetwork(Tensor images)
    {
        var inputs = images.view(images.shape[0], -1);      // 64 x 784
        var w1 = randn(784, 256);                          // input → hidden weights
        var b1 = randn(256);
        var w2 = randn(256, 10);                           // hidden → output weights
        var b2 = randn(10);
        var h = sigmoid(mm(inputs, w1) + b1);
        return (inputs, mm(h, w2) + b2);
    }

    /// <summary>Step 15: softmax by hand. <c>exp(x)</c> is 64 x 10 and its row sums 64, so the sums are
    /// viewed as a 64 x 1 column to divide each row by its own sum.</summary>
    public static Tensor SoftmaxByHand(Tensor x) => exp(x) / sum(exp(x), dim: 1).view(-1, 1);

    /// <summary>Step 16: the tutorial's <c>Network</c> class, and the same in the functional style.</summary>
    public static (Network Modules, FunctionalNetwork Functional) NetworkClasses() => (new Network(), new FunctionalNetwork());

    /// <summary>Step 17: 784-128-64-10 with ReLU, softmax on the output.</summary>
    public static (Mlp Model, Tensor Probabilities) ReluNetwork(Tensor inputs)
    {
        var model = new Mlp();
        return (model, functional.softmax(model.call(inputs), dim: 1));
    }

    /// <summary>Step 18: <c>model.fc1.bias.data.fill_(0)</c>; <c>model.fc1.weight.data.normal_(std=0.01)</c>.</summary>
    public static Linear CustomInitialisation(Mlp model)
    {
        var fc1 = model.Layer<Linear>("fc1");
        using (no_grad())
        {
            fc1.bias!.fill_(0);
            fc1.weight!.normal_(mean: 0, std: 0.01);
        }
        return fc1;
    }

    /// <summary>Step 19: forward one image, then draw <c>view_classify</c>: the digit beside its class probabilities.
    /// The model is first trained for one epoch (a few seconds) so the figure shows a confident answer.</summary>
    public static (string Path, Tensor Probabilities, long Label) ViewClassifyFigure(MNIST trainset, Tensor image, long label, string outputFolder)
    {
        manual_seed(7);
        using var model = new Mlp();
        using (var trainer = new Trainer(model, new OptimizerSettings(OptimizerKind.Sgd, 0.05, Momentum: 0.9)))
        using (var loader = new TensorDataLoader(trainset, batchSize: 64, seed: 7))
            trainer.TrainEpoch(loader);

        Tensor ps;
        using (no_grad())
            ps = functional.softmax(model.call(image.view(1, 784)), dim: 1);
        var path = Path.Combine(outputFolder, "view_classify.png");
        ViewClassify.Save(image.view(1, 28, 28), ps, path, trainset.Resources.Classes);
        return (path, ps, label);
    }

    /// <summary>Step 20: <c>nn.Sequential</c> from a list of layers, indexed by position.</summary>
    public static Sequential SequentialFromList() =>
        Sequential(Linear(784, 128), ReLU(), Linear(128, 64), ReLU(), Linear(64, 10), Softmax(dim: 1));

    /// <summary>Step 21: <c>nn.Sequential(OrderedDict([...]))</c>: named layers, looked up by name or position.</summary>
    public static Sequential SequentialWithNames() =>
        Sequential(
            ("fc1", Linear(784, 128)),
            ("relu1", ReLU()),
            ("fc2", Linear(128, 64)),
            ("relu2", ReLU()),
            ("output", Linear(64, 10)),
            ("softmax", Softmax(dim: 1)));
}
