using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;

namespace LeNetTorchSharp.Data;

/// <summary>
/// Downloads the <c>.gz</c> files of an MNIST-format dataset from its mirrors (URLs or local folders), in
/// order, verifying each file's decompressed size and MD5.
/// </summary>
/// <remarks>
/// A file is streamed to a temporary name in the target folder and renamed only once its checksum
/// matches, so an interrupted or corrupt download never leaves a file a later run could mistake for
/// complete. The mirror list comes from, in order: the <c>mirrors</c> argument, the environment variable
/// <see cref="MirrorsVariable"/> (addresses separated by <c>;</c> or whitespace), the dataset's own list.
/// </remarks>
internal sealed class MnistDownloader
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
    /// <exception cref="DatasetException">A file could be fetched from no mirror; nothing partial is left behind.</exception>
    public async Task DownloadMissingAsync(string root, MnistResources resources, IReadOnlyList<string>? mirrors = null, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(root);
        var sources = ResolveMirrors(resources, mirrors);
        Directory.CreateDirectory(root);
        // Partial downloads of killed runs: never mistaken for files (other names), removed here.
        AtomicFile.RemoveAbandoned(root, ".part");
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
            var source = mirror.TrimEnd('/') + "/" + file.Name + ".gz";
            var temp = AtomicFile.TemporaryPath(target, ".part");
            try
            {
                log.WriteLine($"Downloading {source}");
                var failure = await FetchAsync(source, temp, cancel) ?? Verify(temp, file, resources);
                if (failure is not null)
                {
                    failures.Add($"{source}: {failure}");
                    continue;
                }
                File.Move(temp, target, overwrite: false);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or UnauthorizedAccessException or TaskCanceledException && !cancel.IsCancellationRequested)
            {
                failures.Add($"{source}: {e.Message}");
            }
            finally
            {
                File.Delete(temp);
            }
        }
        throw new DatasetException(Path.GetFullPath(root),
            $"could not download {file.Name}.gz of {resources.Name}:{Environment.NewLine}" +
            string.Join(Environment.NewLine, failures.Select(f => "  " + f)) + Environment.NewLine +
            HowToGetFiles(root, resources));
    }

    /// <summary>Copies <paramref name="source"/> (a URL, or a file in a local mirror folder) to <paramref name="temp"/>; returns why it failed, or null.</summary>
    async Task<string?> FetchAsync(string source, string temp, CancellationToken cancel)
    {
        await using var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write);
        if (!Uri.TryCreate(source, UriKind.Absolute, out var uri) || uri.IsFile)
        {
            var local = uri?.LocalPath ?? source;
            if (!File.Exists(local)) return "no such file";
            await using var input = File.OpenRead(local);
            await input.CopyToAsync(output, cancel);
            return null;
        }
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancel);
        if (response.StatusCode != HttpStatusCode.OK)
            return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
        await using var body = await response.Content.ReadAsStreamAsync(cancel);
        await body.CopyToAsync(output, cancel);
        return null;
    }

    /// <summary>Checks the decompressed size and MD5 of a downloaded .gz; returns why it is wrong, or null.</summary>
    static string? Verify(string gz, DatasetFile file, MnistResources resources)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        long size = 0;
        try
        {
            using var stream = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = stream.Read(buffer)) > 0)
            {
                size += read;
                if (size > file.RawBytes) return $"decompresses to more than the expected {file.RawBytes} bytes (not the {resources.Name} file)";
                md5.AppendData(buffer, 0, read);
            }
        }
        catch (InvalidDataException e)
        {
            return $"not a valid gzip file ({e.Message})";
        }
        var hash = Convert.ToHexStringLower(md5.GetHashAndReset());
        if (size != file.RawBytes || hash != file.RawMd5)
            return $"decompresses to {size} bytes with MD5 {hash}, expected {file.RawBytes} bytes with MD5 {file.RawMd5} (corrupt or not the {resources.Name} file)";
        return null;
    }

    /// <summary>What a user can do when the files are missing and cannot be downloaded.</summary>
    public static string HowToGetFiles(string root, MnistResources resources) =>
        $"To get {resources.Name}: {resources.HowToGet}, " +
        $"or download {string.Join(", ", resources.Files.Select(f => f.Name + ".gz"))} from {resources.Mirrors[^1]} into {Path.GetFullPath(root)}, " +
        $"or point {MirrorsVariable} at a mirror you can reach.";
}
