using TorchSharp;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Tests.Data;
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

    [Test]
    public void A_digit_image_from_bad_pixels_is_refused_naming_them_not_by_libtorch()
    {
        Assert.That(ParamOf(() => DigitImage.FromGray([], 0, 0)), Is.EqualTo("gray"));
        Assert.That(Assert.Throws<ArgumentException>(() => DigitImage.FromGray(new float[12], 3, 3))!.Message, Does.StartWith("expected 3x3 = 9 pixels; received 12."));
        var pixels = Enumerable.Repeat(255f, 100).ToArray();
        pixels[42] = float.NaN;
        Assert.That(Assert.Throws<ArgumentException>(() => DigitImage.FromGray(pixels, 10, 10))!.Message,
            Does.StartWith("pixel 42 (row 4, column 2) is NaN; expected a number from 0 (black) to 255 (white)."));
        var scaled = Enumerable.Repeat(0.5f, 100).ToArray();
        Assert.That(Assert.Throws<ArgumentException>(() => DigitImage.FromGray(scaled, 10, 10))!.Message,
            Does.StartWith("every pixel is at most 1; expected 0 (black) to 255 (white): multiply the image by 255."));
    }

    [Test]
    public void A_predictor_refuses_an_image_of_another_dtype_or_shape_and_work_after_Dispose()
    {
        using var temp = new TempFolder();
        using (var net = new LeNet()) Weights.Save(net, temp.File("w.pt"));
        var predictor = Predictor.Load(temp.File("w.pt"));
        var wrong = Assert.Throws<ArgumentException>(() => predictor.Probabilities(rand(1, 28, 28)));
        Assert.That(wrong!.ParamName, Is.EqualTo("digits"));
        Assert.That(wrong.Message, Does.StartWith("expected uint8 MNIST-style digits of shape [28, 28], [1, 28, 28] or [N, 1, 28, 28] (DigitImage.Load makes one); received Float32 [1, 28, 28]."));
        Assert.That(ParamOf(() => predictor.Probabilities(zeros(3, 28, 28, ScalarType.Byte))), Is.EqualTo("digits"));
        Assert.That(ParamOf(() => predictor.Probabilities(zeros(0, 1, 28, 28, ScalarType.Byte))), Is.EqualTo("digits"));
        Assert.That(predictor.Probabilities(zeros(28, 28, ScalarType.Byte)), Has.Length.EqualTo(10));
        var batch = randint(0, 256, [3, 1, 28, 28]).to(ScalarType.Byte);
        var together = predictor.Probabilities(batch);
        Assert.That(together, Has.Length.EqualTo(30));
        Assert.That(together[10..20], Is.EqualTo(predictor.Probabilities(batch[1])).Within(1e-6), "a batch gives each image its own answer");
        predictor.Dispose();
        Assert.That(() => predictor.Probabilities(zeros(28, 28, ScalarType.Byte)), Throws.InstanceOf<ObjectDisposedException>());
    }

    [Test]
    public void An_image_size_that_would_take_gigabytes_is_refused_before_the_data_is_resized()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 2100);
        Assert.That(ParamOf(() => new MNIST(temp.Path, imageSize: 100_000)), Is.EqualTo("imageSize"));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new MNIST(temp.Path, imageSize: 1024));
        Assert.That(error!.Message, Does.StartWith("imageSize: 2,100 images of 1024x1024 would take 2.05 GiB; expected at most 2 GiB."));
    }

    [Test]
    public void A_trainer_for_a_model_without_parameters_is_refused()
    {
        using var model = nn.Sequential(nn.ReLU());
        using var other = new Mlp(hidden: [4]);
        var error = Assert.Throws<ArgumentException>(() => new Trainer(model, optim.SGD(other.parameters(), 0.1)));
        Assert.That(error!.ParamName, Is.EqualTo("model"));
        Assert.That(error.Message, Does.StartWith("Sequential has no parameters to train."));
    }

    [Test]
    public void A_checkpoint_into_a_path_under_a_file_names_the_file_in_the_way()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("notes"), "a file, not a folder");
        using var model = new Mlp(hidden: [4]);
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.1));
        var path = Path.Combine(temp.File("notes"), "run", "last.ckpt");
        Assert.That(Assert.Throws<IOException>(() => Checkpoint.Save(path, trainer))!.Message,
            Is.EqualTo($"{path}: cannot be written: {temp.File("notes")} is a file, not a folder"));
    }

    [Test]
    public void The_systems_words_for_a_failed_write_get_the_file_named()
    {
        using var temp = new TempFolder();
        var path = temp.File("model.pt");
        var error = Assert.Throws<IOException>(() => AtomicFile.Write(path, _ => throw new IOException("No space left on device")));
        Assert.That(error!.Message, Is.EqualTo($"{path}: cannot be written (No space left on device)"));
        Assert.That(Directory.GetFiles(temp.Path), Is.Empty, "no temporary file is left");
    }

    [Test]
    public void A_checkpoint_of_Nesterov_SGD_is_refused_by_a_trainer_of_plain_SGD_naming_what_differs()
    {
        using var temp = new TempFolder();
        using var images = randn(16, 4);
        using var labels = randint(0, 3, [16]);
        using (var model = nn.Sequential(nn.Linear(4, 3)))
        using (var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.1, momentum: 0.9, nesterov: true)))
        {
            trainer.Step(images, labels).Dispose();
            Checkpoint.Save(temp.File("nesterov.ckpt"), trainer);
        }
        using var plain = nn.Sequential(nn.Linear(4, 3));
        using var plainTrainer = new Trainer(plain, optim.SGD(plain.parameters(), 0.1));
        Assert.That(Assert.Throws<CheckpointException>(() => Checkpoint.Load(temp.File("nesterov.ckpt"), plainTrainer))!.Message, Is.EqualTo(
            $"{temp.File("nesterov.ckpt")}: the checkpoint's optimizer (SGD) was set up otherwise than this trainer's (SGD): " +
            "momentum 0.9 in the checkpoint, 0 here; nesterov True in the checkpoint, False here; build the trainer's optimizer (and average) with the checkpoint's settings"));
    }
}
