using LeNetTorchSharp.Models;
using LeNetTorchSharp.Native;
using LeNetTorchSharp.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Native;

public class NativeHeapTests
{
    static long MinorFaults() => long.Parse(File.ReadAllText("/proc/self/stat").Split(')')[1].Split(' ')[8]);

    static void RequireGlibc()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists("/proc/self/stat")) Assert.Ignore("glibc's malloc is a Linux matter");
        Assert.That(NativeHeap.RetainFreedMemory(), Is.True, "Linux with glibc: the thresholds should be set");
    }

    [Test]
    public void On_glibc_it_sets_the_thresholds_once_and_says_so()
    {
        RequireGlibc();
        Assert.That(NativeHeap.Retaining, Is.True);
        Assert.That(NativeHeap.RetainFreedMemory(), Is.True, "a second call changes nothing and still reports the setting");
    }

    [Test]
    public void Training_steps_reuse_the_memory_of_the_steps_before_instead_of_faulting_in_fresh_pages()
    {
        RequireGlibc();
        manual_seed(3);
        using var model = new LeNet();
        using var trainer = new Trainer(model, optim.SGD(model.parameters(), 0.01, momentum: 0.9));
        using var images = randn(128, 1, 32, 32);
        using var labels = randint(0, 10, [128]);
        void Steps(int count)
        {
            for (var i = 0; i < count; i++)
                using (NewDisposeScope()) trainer.Step(images, labels);
        }
        Steps(10);
        var before = MinorFaults();
        Steps(40);
        var faults = MinorFaults() - before;
        // A LeNet step at batch 128 allocates about 10 MB (2,500 pages); handed back and faulted in again each
        // step, 40 steps would take some 100,000 faults.
        Assert.That(faults, Is.LessThan(5_000), $"40 training steps took {faults} page faults: freed memory went back to the kernel");
    }

    [Test]
    public void A_trim_threshold_below_the_mmap_threshold_or_above_2_GB_is_refused()
    {
        Assert.That(() => NativeHeap.RetainFreedMemory(1 << 20), Throws.InstanceOf<ArgumentOutOfRangeException>()
            .With.Property("ParamName").EqualTo("trimThreshold"));
        Assert.That(() => NativeHeap.RetainFreedMemory(4L << 30), Throws.InstanceOf<ArgumentOutOfRangeException>()
            .With.Property("ParamName").EqualTo("trimThreshold"));
    }
}
