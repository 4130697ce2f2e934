using System.Net;
using System.Net.Sockets;

namespace LeNetTorchSharp.Tests.Data;

/// <summary>An HTTP server on 127.0.0.1 serving fixed files (404 for anything else), for download tests.</summary>
internal sealed class LocalHttpServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly IReadOnlyDictionary<string, byte[]> files;
    readonly Task serving;

    public string BaseAddress { get; }
    public int Requests;

    public LocalHttpServer(IReadOnlyDictionary<string, byte[]> files)
    {
        this.files = files;
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        BaseAddress = $"http://127.0.0.1:{port}/mnist/";
        listener.Prefixes.Add(BaseAddress);
        listener.Start();
        serving = Task.Run(Serve);
    }

    async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            // Stopped between the loop's check and the call (a server disposed as soon as it is made): "call Start() first".
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException || (e is InvalidOperationException && !listener.IsListening)) { return; }
            Interlocked.Increment(ref Requests);
            var name = context.Request.Url!.AbsolutePath["/mnist/".Length..];
            if (files.TryGetValue(name, out var body))
            {
                context.Response.StatusCode = 200;
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
            }
            else
            {
                context.Response.StatusCode = 404;
            }
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        listener.Stop();
        listener.Close();
        serving.Wait(TimeSpan.FromSeconds(5));
    }
}
