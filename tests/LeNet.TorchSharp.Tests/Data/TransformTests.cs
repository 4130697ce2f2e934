using TorchSharp;
using LeNetTorchSharp.Data;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Data;

public class TransformTests
{
    [Test]
    public void Resize_gives_32x32_and_keeps_a_constant_image_constant()
    {
        using var images = full(3, 1, 28, 28, 0.25f);
        using var resized = new Resize(32).call(images);
        Assert.That(resized.shape, Is.EqualTo(new long[] { 3, 1, 32, 32 }));
        Assert.That(resized.sub(0.25f).abs().max().item<float>(), Is.LessThan(1e-6f));
    }

    [Test]
    public void Resize_of_a_batch_matches_libtorch_bilinear_on_each_image_alone_to_float_rounding()
    {
        manual_seed(5);
        using var images = rand(4, 3, 28, 28);
        using var resized = new Resize(32).call(images);
        Assert.That(resized.shape, Is.EqualTo(new long[] { 4, 3, 32, 32 }));
        for (var i = 0; i < 4; i++)
        {
            using var alone = nn.functional.interpolate(images[i..(i + 1)], [32, 32], mode: InterpolationMode.Bilinear, align_corners: false);
            Assert.That((resized[i..(i + 1)] - alone).abs().max().item<float>(), Is.LessThan(1e-6f), $"image {i}");
        }
    }

    [Test]
    public void Resize_preserves_a_left_right_split_and_a_gradient()
    {
        // Left half white, right half black: after resizing, the left 15 columns stay white, the right 15 black.
        using var split = zeros(1, 1, 28, 28);
        split[.., .., .., ..14] = 1f;
        using var resized = new Resize(32).call(split);
        Assert.That(resized[.., .., .., ..15].min().item<float>(), Is.EqualTo(1f));
        Assert.That(resized[.., .., .., 17..].max().item<float>(), Is.EqualTo(0f));

        // A left-to-right ramp stays a ramp: strictly increasing along every row.
        using var ramp = arange(28, dtype: ScalarType.Float32).div(27).expand(1, 1, 28, 28).contiguous();
        using var rampResized = new Resize(32).call(ramp);
        using var steps = rampResized[.., .., .., 1..] - rampResized[.., .., .., ..^1];
        Assert.That(steps.min().item<float>(), Is.GreaterThanOrEqualTo(0f));
        Assert.That(rampResized[0, 0, 0, 0].item<float>(), Is.EqualTo(0f).Within(1e-6));
        Assert.That(rampResized[0, 0, 0, 31].item<float>(), Is.EqualTo(1f).Within(1e-6));
    }

    [Test]
    public void Resize_rejects_byte_images_naming_the_expected_input()
    {
        using var bytes = zeros(1, 1, 28, 28, ScalarType.Byte);
        var error = Assert.Throws<ArgumentException>(() => new Resize(32).call(bytes));
        Assert.That(error!.Message, Does.StartWith("Resize expects float images of shape [N, C, H, W]; received Byte [1, 1, 28, 28]."));
    }

    [Test]
    public void Tutorial_normalization_maps_0_1_to_minus1_1()
    {
        using var pixels = tensor(new float[] { 0f, 0.5f, 1f });
        using var normalized = Normalize.Tutorial.call(pixels);
        Assert.That(normalized.data<float>().ToArray(), Is.EqualTo(new[] { -1f, 0f, 1f }));
        Assert.That(pixels.data<float>().ToArray(), Is.EqualTo(new[] { 0f, 0.5f, 1f }), "the input is left unchanged");
    }

    [Test]
    public void MNIST_statistics_normalization_uses_mean_0_1307_std_0_3081()
    {
        using var pixels = tensor(new float[] { 0.1307f, 1f });
        using var normalized = Normalize.MnistStatistics.call(pixels);
        Assert.That(normalized[0].item<float>(), Is.EqualTo(0f).Within(1e-6));
        Assert.That(normalized[1].item<float>(), Is.EqualTo((1 - 0.1307) / 0.3081).Within(1e-5));
    }

    [Test]
    public void Normalize_rejects_a_zero_std()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => new Normalize(0.5, 0))!.ParamName, Is.EqualTo("std"));
    }

    [Test]
    public void The_library_transforms_compose_with_TorchVisions_in_order()
    {
        using var images = ones(2, 1, 28, 28);
        var compose = torchvision.transforms.Compose(new Resize(32), new Normalize(0.5, 0.25), torchvision.transforms.Normalize([1.0], [2.0]));
        using var result = compose.call(images);
        Assert.That(result.shape, Is.EqualTo(new long[] { 2, 1, 32, 32 }));
        Assert.That(result.mean().item<float>(), Is.EqualTo(0.5f).Within(1e-6), "((1 - 0.5) / 0.25 - 1) / 2");
    }

    [Test]
    public void Normalize_gives_TorchVisions_values_bit_for_bit_and_Resize_TorchVisions_bilinear_ones()
    {
        using var pixels = rand(16, 1, 28, 28);
        using var ours = Normalize.MnistStatistics.call(pixels);
        using var theirs = torchvision.transforms.Normalize([0.1307], [0.3081]).call(pixels);
        Assert.That(ours.equal(theirs).all().item<bool>(), Is.True);
        using var resized = new Resize(32).call(pixels);
        using var theirsResized = torchvision.transforms.Resize(32, InterpolationMode.Bilinear).call(pixels);
        Assert.That((resized - theirsResized).abs().max().item<float>(), Is.LessThan(1e-5f));
    }
}
