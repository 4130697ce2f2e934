using System.Diagnostics;

namespace LeNetTorchSharp.Tests.App;

/// <summary>
/// The trainer program in a process of its own (<c>dotnet TrainMnist.dll …</c>), as a user starts it: for what an
/// in-process call cannot show, such as what the program sets up at start, or what another user may do.
/// </summary>
internal static class ProgramProcess
{
    /// <summary>Runs the program with <paramref name="args"/> and extra <paramref name="environment"/> variables; its
    /// exit code, what it printed, and its error lines.</summary>
    /// <param name="asUnprivilegedUser">Under root, run it as <c>nobody</c> (from <see cref="UnprivilegedCopy"/>);
    /// otherwise as this user, whom file permissions bind already.</param>
    public static (int Exit, string Out, string[] Errors) Run(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool asUnprivilegedUser = false)
    {
        var dropRights = asUnprivilegedUser && Environment.IsPrivilegedProcess;
        var dll = Path.Combine(dropRights ? UnprivilegedCopy() : AppContext.BaseDirectory, "TrainMnist.dll");
        var start = dropRights
            ? new ProcessStartInfo("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", dll, .. args])
            : new ProcessStartInfo("dotnet", [dll, .. args]);
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(300_000), Is.True, "the program did not end within 5 minutes");
        return (process.ExitCode, output, error.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    static readonly Lazy<string> Copy = new(MakeUnprivilegedCopy);

    /// <summary>
    /// The test binaries (the program among them) hard-linked into a folder that every user can enter: a clone under
    /// <c>/root</c> or in a <c>mktemp -d</c> folder (mode 700) is closed to other users, so <c>nobody</c> could not
    /// start the program from there. Links, not copies: no second copy of libtorch on disk. Where links cannot be made
    /// (the clone on another file system than the temporary folder) or <c>nobody</c> cannot run <c>dotnet</c>, the
    /// test is skipped, saying why.
    /// </summary>
    public static string UnprivilegedCopy() => Copy.Value;

    static string MakeUnprivilegedCopy()
    {
        var root = Directory.CreateTempSubdirectory("lenet-program-").FullName;
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(root, (UnixFileMode)0b111_101_101);
        var target = Path.Combine(root, "bin");
        var (linked, why) = Exec("cp", ["-al", AppContext.BaseDirectory.TrimEnd('/'), target]);
        if (!linked)
        {
            Directory.Delete(root, recursive: true);
            Assert.Ignore($"cannot hard-link the test binaries into {root} for the unprivileged user ({why}); the clone is on another file system than the temporary folder");
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(root, recursive: true);
        var (runs, whyNot) = Exec("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", "--version"]);
        if (!runs) Assert.Ignore($"the unprivileged user cannot run dotnet ({whyNot}): install the .NET SDK where every user can read it");
        return target;
    }

    static (bool Ok, string Error) Exec(string file, string[] args)
    {
        var start = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.Environment["HOME"] = Path.GetTempPath();
        start.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode == 0, error.Result.Trim());
    }
}
