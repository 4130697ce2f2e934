using System.Text;
using LeNetTorchSharp.Native;

namespace LeNetTorchSharp.Tests.Native;

public class TorchNativeTests
{
    /// <summary>The libstdc++ this process loaded, and whether it has the symbol version TorchSharp's glue asks for
    /// (Debian 12's and Ubuntu 22.04's have not). Ignores the test elsewhere than Linux, where the fix does nothing.</summary>
    internal static (string Path, bool HasVersion) LoadedLibstdcxx()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("the native-load fix exists on Linux only");
        TorchNative.EnsureLoaded();
        var libstdcxx = File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Last())
            .First(path => Path.GetFileName(path).StartsWith("libstdc++.so", StringComparison.Ordinal));
        return (libstdcxx, File.ReadAllBytes(libstdcxx).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0);
    }

    [Test]
    public void The_glue_is_patched_exactly_when_the_loaded_libstdcxx_lacks_GLIBCXX_3_4_32()
    {
        var (libstdcxx, hasVersion) = LoadedLibstdcxx();
        if (hasVersion)
            Assert.That(TorchNative.PatchedLibraryPath, Is.Null, $"{libstdcxx} is new enough: nothing should be patched");
        else
            Assert.That(TorchNative.PatchedLibraryPath, Does.Exist, $"{libstdcxx} lacks GLIBCXX_3.4.32: the patched copy should be in use");
    }

    [Test]
    public void The_patched_copy_is_written_once_to_a_folder_keyed_by_the_original_and_leaves_no_temp_files()
    {
        var original = ElfVersionPatcherTests.GlueLibrary();
        var cache = Directory.CreateTempSubdirectory("lenet-native-");
        try
        {
            var copy = TorchNative.PatchedCopy(original, cache.FullName);
            var written = File.GetLastWriteTimeUtc(copy);
            Assert.That(TorchNative.PatchedCopy(original, cache.FullName), Is.EqualTo(copy));
            Assert.That(File.GetLastWriteTimeUtc(copy), Is.EqualTo(written), "a cached copy is reused, not rewritten");

            Assert.That(Path.GetFileName(copy), Is.EqualTo("libLibTorchSharp.so"));
            Assert.That(Directory.GetFiles(cache.FullName, "*", SearchOption.AllDirectories), Is.EqualTo(new[] { copy }));
            var needs = ElfVersionPatcher.ReadVersionNeeds(File.ReadAllBytes(copy));
            Assert.That(needs.Single(n => n.Version == "GLIBCXX_3.4.32").Weak, Is.True);
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    [Test]
    public void A_library_without_the_requirement_is_not_patched_and_the_error_says_why()
    {
        var cache = Directory.CreateTempSubdirectory("lenet-native-");
        try
        {
            var other = File.ReadAllBytes(ElfVersionPatcherTests.GlueLibrary());
            // Rename the requirement in the string table: the library no longer asks for 3.4.32.
            var at = other.AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8);
            Encoding.ASCII.GetBytes("GLIBCXX_3.4.99").CopyTo(other, at);
            var path = Path.Combine(cache.FullName, "libother.so");
            File.WriteAllBytes(path, other);

            var error = Assert.Throws<InvalidDataException>(() => TorchNative.PatchedCopy(path, Path.Combine(cache.FullName, "cache")));
            Assert.That(error!.Message, Does.Contain("libother.so").And.Contain("has no GLIBCXX_3.4.32 requirement"));
            Assert.That(Directory.Exists(Path.Combine(cache.FullName, "cache")), Is.False);
        }
        finally
        {
            cache.Delete(recursive: true);
        }
    }

    [TestCase(null, null, false)]
    [TestCase(null, "1", true)]
    [TestCase(null, " TRUE ", true)]
    [TestCase(null, "0", false)]
    [TestCase(null, "", false)]
    [TestCase(true, null, true)]
    [TestCase(false, "1", false)]
    public void The_AppContext_switch_or_else_the_environment_variable_turns_the_fix_off(bool? appContextSwitch, string? variable, bool disabled)
    {
        Assert.That(TorchNative.IsDisabled(appContextSwitch, variable), Is.EqualTo(disabled));
    }
}
