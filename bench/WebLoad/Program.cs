// A bounded load generator for examples/DigitWeb, against localhost only: for each number of concurrent clients, a
// fixed number of POST /api/predict requests of MNIST test digits (drawn as 112x112 PNGs, as a canvas uploads them),
// then requests per second and latency percentiles; the server's RSS (its pid given) at rest, under load, and after
// each thousand requests of a long run. It stops by itself.
//   dotnet run -c Release --project bench/WebLoad -- --url http://127.0.0.1:5000 --pid 1234 --mnist data/mnist
//     [--clients 1,8,64] [--requests 2000] [--soak 10000]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using LeNetTorchSharp.Data;
using SkiaSharp;

string Arg(string name, string? fallback = null) =>
    args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback ?? throw new ArgumentException($"{name} is required");
var url = new Uri(Arg("--url"));
if (!IPAddress.TryParse(url.Host, out var ip) ? url.Host != "localhost" : !IPAddress.IsLoopback(ip))
{
    Console.Error.WriteLine($"error: --url {url}: this load generator runs against localhost only.");
    return 2;
}
var pid = int.Parse(Arg("--pid"), CultureInfo.InvariantCulture);
var clients = Arg("--clients", "1,8,64").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
var requests = int.Parse(Arg("--requests", "2000"), CultureInfo.InvariantCulture);
var soak = int.Parse(Arg("--soak", "10000"), CultureInfo.InvariantCulture);

var images = IdxFile.Read(Path.Combine(Arg("--mnist"), "t10k-images-idx3-ubyte"), 3);
var pictures = Enumerable.Range(0, 100).Select(i => Png(images.Data.AsSpan(i * 784, 784))).ToArray();
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(1) };

double Rss() => double.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
    CultureInfo.InvariantCulture) / 1024;

async Task<double> One(int i)
{
    var content = new ByteArrayContent(pictures[i % pictures.Length]);
    content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
    var clock = Stopwatch.StartNew();
    using var response = await http.PostAsync("api/predict", content);
    await response.Content.ReadAsByteArrayAsync();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"request {i}: {(int)response.StatusCode}");
    return clock.Elapsed.TotalMilliseconds;
}

// n requests shared by `concurrency` clients, each sending its next request when its last is answered.
async Task<(double Seconds, double[] Latencies, double PeakRss)> Run(int concurrency, int n)
{
    var latencies = new double[n];
    var next = -1;
    var peak = Rss();
    using var sampling = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
    var done = false;
    var sampler = Task.Run(async () => { while (!done && await sampling.WaitForNextTickAsync()) peak = Math.Max(peak, Rss()); });
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
    {
        for (int i; (i = Interlocked.Increment(ref next)) < n;) latencies[i] = await One(i);
    })));
    var seconds = clock.Elapsed.TotalSeconds;
    done = true;
    sampling.Dispose();
    await sampler;
    Array.Sort(latencies);
    return (seconds, latencies, Math.Max(peak, Rss()));
}

await Run(4, 200); // warm-up: the JIT, the model's first calls, Kestrel's connections
var rest = Rss();
Console.WriteLine(Invariant($"server RSS at rest after 200 warm-up requests: {rest:F0} MB"));
Console.WriteLine("| concurrent clients | requests | requests/s | p50 latency, ms | p95 latency, ms | peak server RSS, MB |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (var c in clients)
{
    var (seconds, latencies, peak) = await Run(c, requests);
    Console.WriteLine(Invariant($"| {c} | {requests:N0} | {requests / seconds:N0} | {latencies[latencies.Length / 2]:F2} | {latencies[latencies.Length * 95 / 100]:F2} | {peak:F0} |"));
}

// The long run: RSS after every 1,000 requests at 8 clients; flat means no request leaves memory behind.
var marks = new List<string>();
for (var done = 0; done < soak; done += 1000)
{
    await Run(8, 1000);
    marks.Add(Invariant($"{done + 1000:N0}: {Rss():F0}"));
}
Console.WriteLine($"server RSS (MB) after each 1,000 of {soak:N0} requests at 8 clients: {string.Join(", ", marks)}");
return 0;

static byte[] Png(ReadOnlySpan<byte> digit)
{
    using var bitmap = new SKBitmap(112, 112, SKColorType.Gray8, SKAlphaType.Opaque);
    for (var y = 0; y < 112; y++)
        for (var x = 0; x < 112; x++)
        {
            var v = (byte)(255 - digit[y / 4 * 28 + x / 4]); // dark ink on white, as the page's canvas draws
            bitmap.SetPixel(x, y, new SKColor(v, v, v));
        }
    using var image = SKImage.FromBitmap(bitmap);
    using var data = image.Encode(SKEncodedImageFormat.Png, 100);
    return data.ToArray();
}

static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
