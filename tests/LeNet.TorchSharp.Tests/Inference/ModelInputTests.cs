using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Inference;

/// <summary>ModelInput: the input an app without libtorch prepares must be the library's, to the bit.</summary>
public class ModelInputTests
{
    [TestCase(32)]
    [TestCase(28)]
    [Category("Integration")]
    public void Real_MNIST_test_images_prepared_in_plain_dotnet_equal_the_librarys_dataset_bit_for_bit(int side)
    {
        var root = RepoPaths.RequireMnist();
        var idx = IdxFile.Read(Path.Combine(root, "t10k-images-idx3-ubyte"), 3);
        var prepared = ModelInput.Prepare(idx.Data, idx.Shape[0], side, 0.1307, 0.3081);

        using var test = new MNIST(root, train: false, transform: Normalize.MnistStatistics, imageSize: side);
        using var scope = NewDisposeScope();
        var (images, _) = test.GetItems(arange(test.Count));
        var expected = images.contiguous().data<float>().ToArray();

        Assert.That(prepared, Has.Length.EqualTo(10_000 * side * side));
        var differing = Enumerable.Range(0, expected.Length).Count(i => BitConverter.SingleToInt32Bits(prepared[i]) != BitConverter.SingleToInt32Bits(expected[i]));
        Assert.That(differing, Is.Zero, $"{differing} of {expected.Length} values differ");
    }

    [Test]
    public void A_digit_is_resized_as_bytes_then_scaled_and_normalized()
    {
        var digit = new byte[28 * 28];
        digit[14 * 28 + 14] = 255;
        var input = ModelInput.Prepare(digit, 1, 28, 0.5, 0.5);
        Assert.That(input[14 * 28 + 14], Is.EqualTo(1f));
        Assert.That(input[0], Is.EqualTo(-1f));

        // 28 -> 32: a one-pixel dot spreads over its neighbours, rounded back to whole bytes.
        var resized = ModelInput.Prepare(digit, 1, 32, 0, 1);
        Assert.That(resized, Has.Length.EqualTo(32 * 32));
        Assert.That(resized.Max(), Is.GreaterThan(0.3f).And.LessThan(1f));
        Assert.That(resized.Select(v => v * 255).All(v => Math.Abs(v - MathF.Round(v)) < 1e-4), Is.True);
    }

    [Test]
    public void Wrong_sizes_and_normalizations_are_refused_naming_the_argument()
    {
        Assert.That(() => ModelInput.Prepare(new byte[100], 1, 32, 0, 1),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("digits").And.Message.StartsWith("expected 1 x 28 x 28 = 784 bytes; received 100."));
        Assert.That(() => ModelInput.Prepare(new byte[784], 1, 0, 0, 1), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("side"));
        Assert.That(() => ModelInput.Prepare(new byte[784], 1, 32, 0, 0),
            Throws.ArgumentException.With.Property("ParamName").EqualTo("std").And.Message.StartsWith("expected a finite mean and a positive std; received mean 0, std 0."));
    }
}
