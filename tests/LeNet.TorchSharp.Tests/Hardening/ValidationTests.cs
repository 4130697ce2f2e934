using TorchSharp;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Training;
using LeNetTorchSharp.Plots;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Hardening;

/// <summary>Public methods check their arguments and name the one that is wrong.</summary>
public class ValidationTests
{
    static string ParamOf(TestDelegate call) => Assert.Catch<ArgumentException>(call)!.ParamName!;

    [Test]
    public void Models_reject_byte_input_and_null()
    {
        using var net = new LeNet();
        var error = Assert.Throws<ArgumentException>(() => net.forward(zeros(1, 1, 32, 32, ScalarType.Byte)));
        Assert.That(error!.Message, Does.StartWith("LeNet expects floating-point input; received Byte"));
        Assert.That(ParamOf(() => net.forward(null!)), Is.EqualTo("input"));
        using var mlp = new Mlp();
        Assert.That(ParamOf(() => mlp.forward(zeros(2, 784, ScalarType.Int64))), Is.EqualTo("input"));
    }

    [TestCase(ScalarType.Float64)]
    [TestCase(ScalarType.Float16)]
    [TestCase(ScalarType.BFloat16)]
    public void Models_reject_floats_of_another_dtype_than_their_weights_in_their_own_words(ScalarType dtype)
    {
        using var net = new LeNet();
        var error = Assert.Throws<ArgumentException>(() => net.forward(zeros(2, 1, 32, 32, dtype)));
        Assert.That(error!.Message, Does.StartWith($"LeNet expects Float32 input, the dtype of its weights; received {dtype} (convert it with .to(ScalarType.Float32), or the model with .to(ScalarType.{dtype}))."));
        Assert.That(error.ParamName, Is.EqualTo("input"));
        using var mlp = new Mlp();
        Assert.That(Assert.Throws<ArgumentException>(() => mlp.call(zeros(2, 784, dtype)))!.Message, Does.StartWith($"Mlp expects Float32 input"));
        using var doubled = new LeNet().to(ScalarType.Float64);
        using var output = doubled.call(zeros(2, 1, 32, 32, ScalarType.Float64));
        Assert.That(output.dtype, Is.EqualTo(ScalarType.Float64), "a model moved to Float64 takes Float64");
    }

    [TestCase(ScalarType.Int32)]
    [TestCase(ScalarType.Float32)]
    [TestCase(ScalarType.Byte)]
    public void Step_and_Evaluate_refuse_labels_that_are_not_int64_class_indices(ScalarType dtype)
    {
        using var model = new Mlp();
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.01));
        using var labels = tensor(new long[] { 1, 2, 3 }).to(dtype);
        var step = Assert.Throws<ArgumentException>(() => trainer.Step(randn(3, 784), labels));
        Assert.That(step!.Message, Does.StartWith($"CrossEntropyLoss needs int64 class labels of shape [N] (or class probabilities shaped like the output, [3, 10]); received {dtype} [3] (convert labels with .to(ScalarType.Int64))."));
        Assert.That(step.ParamName, Is.EqualTo("target"));
        var evaluate = Assert.Throws<ArgumentException>(() => trainer.Evaluate([(randn(3, 784), labels)]));
        Assert.That(evaluate!.Message, Does.StartWith($"Evaluate needs int64 class labels of shape [N]; received {dtype} [3]"));
    }

    [Test]
    public void Cross_entropy_still_takes_class_probabilities_shaped_like_the_output()
    {
        using var model = new Mlp();
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.01));
        using var probabilities = softmax(randn(3, 10), 1);
        using var loss = trainer.Step(randn(3, 784), probabilities);
        Assert.That(float.IsFinite(loss.item<float>()), Is.True);
    }

    [Test]
    public void Evaluate_refuses_a_label_outside_the_classes()
    {
        using var model = new Mlp();
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.01));
        var error = Assert.Throws<ArgumentException>(() => trainer.Evaluate([(randn(3, 784), tensor(new long[] { 1, 10, 2 }))]));
        Assert.That(error!.Message, Does.StartWith("labels must be in [0, 10) for a model with 10 outputs; found 10."));
    }

    [Test]
    public void Trainer_rejects_labels_out_of_range_wrong_counts_and_empty_batches()
    {
        using var model = new Mlp();
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.01));
        var outOfRange = Assert.Throws<ArgumentException>(() => trainer.Step(randn(3, 784), tensor(new long[] { 1, 10, 2 })));
        Assert.That(outOfRange!.ParamName, Is.EqualTo("target"));
        Assert.That(outOfRange.Message, Does.StartWith("labels must be in [0, 10) for a model with 10 outputs; found 10."));
        Assert.That(ParamOf(() => trainer.Step(randn(3, 784), tensor(new long[] { -1, 0, 2 }))), Is.EqualTo("target"));
        Assert.That(ParamOf(() => trainer.Step(randn(0, 784), zeros(0, ScalarType.Int64))), Is.EqualTo("input"));
        Assert.That(ParamOf(() => trainer.Step(null!, zeros(1, ScalarType.Int64))), Is.EqualTo("input"));
        Assert.That(ParamOf(() => trainer.Evaluate([(randn(3, 784), zeros(2, ScalarType.Int64))])), Is.EqualTo("target"));
        Assert.That(ParamOf(() => trainer.Evaluate([])), Is.EqualTo("batches"));
        Assert.That(ParamOf(() => trainer.Fit(null!, 1)), Is.EqualTo("batches"));
        Assert.That(ParamOf(() => trainer.TrainEpoch([])), Is.EqualTo("batches"));
    }

    [Test]
    public void Data_pieces_reject_bad_sizes()
    {
        Assert.That(ParamOf(() => new Resize(0)), Is.EqualTo("size"));
        Assert.That(ParamOf(() => new Normalize(double.NaN, 1)), Is.EqualTo("mean"));
        Assert.That(ParamOf(() => new MNIST("", train: true)), Is.EqualTo("root"));
        Assert.That(ParamOf(() => new MNIST("data/mnist", imageSize: -1)), Is.EqualTo("imageSize"));
        Assert.That(ParamOf(() => new TensorDataLoader(randn(4, 2), zeros(4, ScalarType.Int64), batchSize: 0)), Is.EqualTo("batchSize"));
        Assert.That(ParamOf(() => new TensorDataLoader((MNIST)null!)), Is.EqualTo("dataset"));
    }

    [Test]
    public void Settings_reject_impossible_values()
    {
        Assert.That(ParamOf(() => new LeNet(new LeNetOptions { Classes = 0 })), Is.EqualTo("Classes"));
        Assert.That(ParamOf(() => ImagePng.Save(randn(3, 28, 28), "x.png")), Is.EqualTo("image"));
        Assert.That(ParamOf(() => ViewClassify.Save(randn(28, 28), softmax(randn(10), 0), "x.png", ["a", "b"])), Is.EqualTo("classNames"));
        Assert.That(ParamOf(() => Safetensors.Save("x.safetensors", [new("a", zeros(1)), new("a", zeros(1))])), Is.EqualTo("tensors"));
        Assert.That(File.Exists("x.png") || File.Exists("x.safetensors"), Is.False, "nothing is written when the arguments are wrong");
    }
}
