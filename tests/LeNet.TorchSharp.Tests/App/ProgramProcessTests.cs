using LeNetTorchSharp.Native;
using LeNetTorchSharp.Tests.Data;

namespace LeNetTorchSharp.Tests.App;

/// <summary>
/// What the trainer program and the library do to the process it runs in, and the switches that turn it off: seen in
/// processes of their own, so that the test process is left as it was.
/// </summary>
public class ProgramProcessTests
{
    TempFolder data = null!;

    [SetUp]
    public void CreateData()
    {
        data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 200);
    }

    [TearDown]
    public void DeleteData() => data.Dispose();

    string[] DryRun => ["--data", data.Path, "--no-download", "--device", "cpu", "--model", "mlp", "--dry-run"];

    static bool LibstdcxxIsOld() => !Native.TorchNativeTests.LoadedLibstdcxx().HasVersion;

    [Test]
    public void The_program_keeps_freed_memory_for_the_next_step_and_says_so_and_the_test_process_is_left_alone()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("glibc's malloc is a Linux matter");
        var (exit, output, errors) = ProgramProcess.Run(DryRun);
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        Assert.That(output, Does.Contain("Device: CPU, ").And.Contain("; freed memory kept for the next step (NativeHeap)"));
        Assert.That(NativeHeap.Retaining, Is.False, "the program sets it in its own Main, not in code the tests call");
    }

    [Test]
    public void The_native_fix_writes_its_patched_copy_only_into_the_users_cache_and_only_where_it_is_needed()
    {
        using var cache = new TempFolder();
        var (exit, _, errors) = ProgramProcess.Run(DryRun, new Dictionary<string, string> { ["XDG_CACHE_HOME"] = cache.Path });
        Assert.That(exit, Is.Zero, string.Join("\n", errors));
        var written = Directory.GetFiles(cache.Path, "*", SearchOption.AllDirectories);
        if (!LibstdcxxIsOld())
        {
            Assert.That(written, Is.Empty, "a libstdc++ with GLIBCXX_3.4.32 needs no patched copy");
            return;
        }
        Assert.That(written, Has.Length.EqualTo(1));
        Assert.That(Path.GetRelativePath(cache.Path, written[0]), Does.Match(@"^lenet-torchsharp/native/[0-9a-f]{16}/libLibTorchSharp\.so$"));
    }

    [TestCase("LENET_TORCHSHARP_DISABLE_NATIVE_FIX", "1")]
    [TestCase("LENET_TORCHSHARP_DISABLE_NATIVE_FIX", "true")]
    public void Switched_off_the_native_fix_does_nothing_and_a_failed_load_says_how_to_switch_it_on(string variable, string value)
    {
        using var cache = new TempFolder();
        // TorchSharp, when its own load fails, copies libtorch into a "cpu" folder beside TorchSharp.dll and tries
        // again from there: its doing, not this library's; removed after the run.
        var consolidated = Path.Combine(AppContext.BaseDirectory, "cpu");
        var existed = Directory.Exists(consolidated);
        var (exit, output, errors) = ProgramProcess.Run(DryRun, new Dictionary<string, string> { [variable] = value, ["XDG_CACHE_HOME"] = cache.Path });
        if (!existed && Directory.Exists(consolidated)) Directory.Delete(consolidated, recursive: true);
        Assert.That(Directory.GetFileSystemEntries(cache.Path), Is.Empty, "nothing written");
        if (!LibstdcxxIsOld())
        {
            Assert.That(exit, Is.Zero, "a new enough libstdc++ loads TorchSharp without the fix");
            return;
        }
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(output, Does.Not.Contain("dry run"));
        Assert.That(errors[0], Is.EqualTo("error: TorchSharp's native libraries could not be loaded."));
        Assert.That(errors, Has.Some.StartsWith("Loader: ").And.Contains("version `GLIBCXX_3.4.32' not found"), "the loader's own reason");
        Assert.That(errors, Has.Some.EqualTo($"  off ({TorchNative.DisableSwitch} or {TorchNative.DisableVariable} is set; unset it to let the library load a patched copy)"));
        Assert.That(errors, Has.None.Contains("   at "), "no stack trace");
    }

    [Test]
    [Platform(Include = "Linux")]
    public void Ctrl_C_during_the_live_progress_bar_gives_the_terminal_its_cursor_back()
    {
        if (!File.Exists("/usr/bin/script") || !File.Exists("/usr/bin/pgrep")) Assert.Ignore("needs script(1) and pgrep(1) (util-linux, procps) for a terminal");
        using var run = new TempFolder();
        var typescript = run.File("typescript");
        var dll = Path.Combine(AppContext.BaseDirectory, "TrainMnist.dll");
        // script(1) gives the program a terminal, so it draws the live bar (which hides the cursor). env(1) gives it
        // SIGINT's default disposition, as a shell does for a job in the foreground: a test run started in the
        // background of a non-interactive shell (as CI may be) has SIGINT ignored, and an ignored signal is inherited.
        // exec: script(1) runs the command through $SHELL, or /bin/sh when SHELL is unset (as in CI), and dash forks
        // where bash execs, which would leave the signal below with the shell instead of the program.
        // TERM: Spectre.Console draws the live bar only for a terminal it knows (CI may have no TERM at all).
        var command = $"exec env --default-signal=INT TERM=xterm-256color dotnet {dll} --data {data.Path} --no-download --out {run.File("r")} --device cpu --no-plots --model mlp --epochs 10000 --batch-size 1";
        using var terminal = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("script", ["-qfc", command, typescript])
        {
            RedirectStandardOutput = true, RedirectStandardInput = true,
        })!;
        int? program = null;
        var until = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < until && (program is null || !File.ReadAllText(typescript).Contains("epoch 1")))
        {
            Thread.Sleep(200);
            using var pgrep = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("pgrep", ["-P", terminal.Id.ToString()]) { RedirectStandardOutput = true })!;
            program = int.TryParse(pgrep.StandardOutput.ReadToEnd().Split('\n')[0], out var id) ? id : null;
            pgrep.WaitForExit();
        }
        Assert.That(program, Is.Not.Null, "the program did not start its live progress bar");
        var commandLine = File.ReadAllText($"/proc/{program}/cmdline").Replace('\0', ' ');
        Assert.That(commandLine, Does.Contain("TrainMnist.dll"), "the process to signal is the program itself");
        var signals = string.Join(", ", File.ReadLines($"/proc/{program}/status").Where(line => line.StartsWith("SigBlk") || line.StartsWith("SigIgn")));
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", program.ToString()!])) kill.WaitForExit();
        if (!terminal.WaitForExit(60_000))
        {
            terminal.Kill(entireProcessTree: true);
            Assert.Fail($"the program did not end on Ctrl-C within 60 s (its signal state: {signals})");
        }
        var bytes = File.ReadAllBytes(typescript);
        var hidden = bytes.AsSpan().LastIndexOf("\u001b[?25l"u8);
        var shown = bytes.AsSpan().LastIndexOf("\u001b[?25h"u8);
        Assert.That(hidden, Is.GreaterThanOrEqualTo(0), "the live bar hid the cursor");
        Assert.That(shown, Is.GreaterThan(hidden), "the cursor was shown again after it was last hidden");
    }
}
