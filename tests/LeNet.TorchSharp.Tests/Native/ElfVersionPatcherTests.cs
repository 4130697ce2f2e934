using LeNetTorchSharp.Native;

namespace LeNetTorchSharp.Tests.Native;

public class ElfVersionPatcherTests
{
    internal static string GlueLibrary()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("libLibTorchSharp.so exists on Linux only");
        var path = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.That(path, Does.Exist, "the build output should carry TorchSharp's Linux glue library");
        return path;
    }

    static readonly HashSet<string> Glibcxx3432 = ["GLIBCXX_3.4.32"];

    [Test]
    public void TorchSharp_glue_needs_GLIBCXX_3_4_32_from_libstdcxx_as_a_strong_requirement()
    {
        var needs = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(GlueLibrary()));
        Assert.That(needs, Does.Contain(new ElfVersionPatcher.VersionNeed("libstdc++.so.6", "GLIBCXX_3.4.32", Weak: false)));
        Assert.That(needs.Where(n => n.Weak), Is.Empty);
    }

    [Test]
    public void Marking_it_weak_changes_one_byte_and_only_that_requirement()
    {
        var original = File.ReadAllBytes(GlueLibrary());
        var patched = original.ToArray();

        Assert.That(ElfVersionPatcher.MarkWeak(patched, Glibcxx3432), Is.EqualTo(1));

        var differing = Enumerable.Range(0, original.Length).Count(i => original[i] != patched[i]);
        Assert.That(differing, Is.EqualTo(1));
        var before = ElfVersionPatcher.ReadVersionNeeds(original);
        var after = ElfVersionPatcher.ReadVersionNeeds(patched);
        Assert.That(after, Is.EqualTo(before.Select(n => n with { Weak = n.Version == "GLIBCXX_3.4.32" })));
    }

    [Test]
    public void Marking_twice_changes_nothing_the_second_time()
    {
        var patched = File.ReadAllBytes(GlueLibrary());
        ElfVersionPatcher.MarkWeak(patched, Glibcxx3432);
        var once = patched.ToArray();
        Assert.That(ElfVersionPatcher.MarkWeak(patched, Glibcxx3432), Is.Zero);
        Assert.That(patched, Is.EqualTo(once));
    }

    [Test]
    public void Bytes_that_are_not_ELF_are_rejected()
    {
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(new byte[100]));
        Assert.That(error!.Message, Does.Contain("not an ELF file"));
    }

    [Test]
    public void A_truncated_library_is_rejected_not_read_out_of_bounds()
    {
        var truncated = File.ReadAllBytes(GlueLibrary())[..4096];
        var error = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(truncated));
        Assert.That(error!.Message, Does.Contain("lies outside the 4096-byte file"));
    }

    [Test]
    public void Corrupt_section_offsets_are_rejected_not_read_out_of_bounds()
    {
        var bytes = File.ReadAllBytes(GlueLibrary());
        BitConverter.GetBytes(long.MaxValue).CopyTo(bytes, 0x28); // e_shoff
        Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadVersionNeeds(bytes));
    }
}
