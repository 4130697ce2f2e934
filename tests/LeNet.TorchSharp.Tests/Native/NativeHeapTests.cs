using LeNetTorchSharp.Native;

namespace LeNetTorchSharp.Tests.Native;

/// <summary>
/// The arguments <see cref="NativeHeap"/> takes. Setting the thresholds changes the whole process, so it is not done
/// here, where it would change the heap of every test after this one: the trainer program sets them in a process of its
/// own (<c>App/ProgramProcessTests.cs</c>), and what they do to training is measured by the benchmark.
/// </summary>
public class NativeHeapTests
{
    [Test]
    public void A_trim_threshold_below_the_mmap_threshold_or_above_2_GB_is_refused()
    {
        Assert.That(() => NativeHeap.RetainFreedMemory(1 << 20), Throws.InstanceOf<ArgumentOutOfRangeException>()
            .With.Property("ParamName").EqualTo("trimThreshold"));
        Assert.That(() => NativeHeap.RetainFreedMemory(4L << 30), Throws.InstanceOf<ArgumentOutOfRangeException>()
            .With.Property("ParamName").EqualTo("trimThreshold"));
        Assert.That(NativeHeap.Retaining, Is.False, "refused arguments set nothing");
    }
}
