using System.Diagnostics;

namespace LeNetTorchSharp.Tests.Examples;

/// <summary>Runs an example program as a user does (its own process) and splits what it prints by the tutorial's headings.</summary>
internal sealed class ExampleProgram
{
    /// <summary>Everything the program printed.</summary>
    public string Output { get; }

    /// <summary>The lines under each <c>## heading</c>, by heading.</summary>
    public IReadOnlyDictionary<string, string[]> Sections { get; }

    ExampleProgram(string output)
    {
        Output = output;
        var sections = new Dictionary<string, string[]>();
        string? heading = null;
        var lines = new List<string>();
        foreach (var line in output.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (line.StartsWith("## "))
            {
                if (heading is not null) sections[heading] = [.. lines];
                (heading, lines) = (line[3..], []);
            }
            else if (line.Length > 0) lines.Add(line);
        }
        if (heading is not null) sections[heading] = [.. lines];
        Sections = sections;
    }

    /// <summary>The one line of <paramref name="section"/> that starts with <paramref name="prefix"/>.</summary>
    public string Line(string section, string prefix)
    {
        Assert.That(Sections, Does.ContainKey(section), Output);
        var found = Sections[section].Where(l => l.StartsWith(prefix)).ToList();
        Assert.That(found, Has.Count.EqualTo(1), $"one line starting '{prefix}' under '## {section}':\n{Output}");
        return found[0];
    }

    /// <summary>Runs the example whose assembly is <paramref name="name"/>.dll (copied beside the tests) with <paramref name="args"/>.</summary>
    public static ExampleProgram Run(string name, params string[] args) => RunIn(Environment.CurrentDirectory, name, args);

    /// <summary>As <see cref="Run"/>, in <paramref name="workingDirectory"/>.</summary>
    public static ExampleProgram RunIn(string workingDirectory, string name, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, name + ".dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.Zero, $"{name} failed:\n{output}\n{error.Result}");
        return new ExampleProgram(output);
    }
}
