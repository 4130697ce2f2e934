using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace LeNetTorchSharp.Tests.Web;

/// <summary>examples/DigitWeb run as a user runs it, in its own process on a free loopback port; everything it prints is kept.</summary>
internal sealed class DigitWebProcess : IDisposable
{
    readonly Process process;
    readonly ConcurrentQueue<string> lines = new();

    /// <summary>Where it serves, e.g. <c>http://127.0.0.1:39123</c>.</summary>
    public Uri Address { get; }

    /// <summary>An HTTP client for <see cref="Address"/>.</summary>
    public HttpClient Client { get; }

    /// <summary>Every line the program printed (stdout and stderr), the ready line first.</summary>
    public IReadOnlyList<string> Output => [.. lines];

    public DigitWebProcess(string model)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DigitWeb.dll"));
        foreach (var arg in new[] { "--model", model, "--port", "0" }) start.ArgumentList.Add(arg);
        process = Process.Start(start)!;
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { ready.TrySetResult(""); return; }
            lines.Enqueue(e.Data);
            if (e.Data.StartsWith("Serving ")) ready.TrySetResult(e.Data);
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!ready.Task.Wait(TimeSpan.FromMinutes(2)) || Regex.Match(ready.Task.Result, @"at (http://[^ ]+?)/ ") is not { Success: true } match)
        {
            Dispose();
            Assert.Fail($"DigitWeb did not start:\n{string.Join("\n", lines)}");
            throw new InvalidOperationException();
        }
        Address = new Uri(match.Groups[1].Value);
        Client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(2) };
    }

    /// <summary>The server's resident set now (Linux's VmRSS), in MB.</summary>
    public double RssMegabytes() =>
        double.Parse(File.ReadLines($"/proc/{process.Id}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;

    public void Dispose()
    {
        Client?.Dispose();
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        process.Dispose();
    }
}
