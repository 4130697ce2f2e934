using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Kernels;

/// <summary>How the convolution kernels' tests judge a float32 result: by its largest difference from a reference,
/// relative to the reference's largest value, and against float64 where libtorch's own float32 is not exact.</summary>
static class Float64Reference
{
    /// <summary>The largest difference, relative to the largest magnitude of <paramref name="expected"/> (at least 1).</summary>
    public static double RelativeError(Tensor actual, Tensor expected) =>
        (actual.to(ScalarType.Float64) - expected.to(ScalarType.Float64)).abs().max().item<double>()
        / Math.Max(1.0, expected.abs().max().to(ScalarType.Float64).item<double>());

    /// <summary>The same shape, and values within <paramref name="tolerance"/> (relative): the kernels add in another
    /// order than oneDNN, so the two agree to float rounding.</summary>
    public static void AssertClose(Tensor actual, Tensor expected, string what, double tolerance = 2e-6)
    {
        Assert.That(actual.shape, Is.EqualTo(expected.shape), what);
        Assert.That(RelativeError(actual, expected), Is.LessThan(tolerance),
            () => $"{what}: largest difference {RelativeError(actual, expected):E2} of the largest value");
    }

    /// <summary>
    /// A gradient that sums over every image and position (100,352 products per weight for LeNet's conv1 at batch 128):
    /// both float32 results are held to the float64 one, and the kernel's must be no less accurate than libtorch's,
    /// within rounding (<paramref name="floor"/>).
    /// </summary>
    public static void AssertAsAccurateAsLibtorch(Tensor actual, Tensor libtorch, Tensor exact, string what, double floor)
    {
        Assert.That(actual.shape, Is.EqualTo(exact.shape), what);
        double ours = RelativeError(actual, exact), theirs = RelativeError(libtorch, exact);
        Assert.That(ours, Is.LessThan(Math.Max(2 * theirs, floor)), $"{what}: error {ours:E2}, libtorch's {theirs:E2}");
    }
}
