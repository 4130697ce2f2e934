using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Native;

/// <summary>
/// Makes TorchSharp's native glue library load on Linux systems whose libstdc++ predates GCC 13
/// (Debian 12, Ubuntu 22.04), with no root, no system change and no manual step.
/// </summary>
/// <remarks>
/// <para>
/// <c>libLibTorchSharp.so</c> in TorchSharp 0.107 lists <c>GLIBCXX_3.4.32</c> as a required symbol
/// version only because of an unused reference (see <see cref="ElfVersionPatcher"/>). When, and only
/// when, the normal load fails, the runtime raises <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/>;
/// the handler installed here then loads a copy whose requirement is flagged weak, kept in a per-user
/// cache keyed by the original's SHA-256. Where the system libstdc++ is new enough the normal load
/// succeeds and nothing is patched.
/// </para>
/// <para>
/// The handler is installed when this assembly loads, so that a newcomer on Debian 12 never has to know
/// about it; the AppContext switch <see cref="DisableSwitch"/> or the environment variable
/// <see cref="DisableVariable"/> turns it off (then TorchSharp loads as it would without this library).
/// An application that calls <c>torch</c> before touching any type of this library should call
/// <see cref="EnsureLoaded"/> first.
/// </para>
/// </remarks>
public static class TorchNative
{
    const string GlueLibrary = "LibTorchSharp";
    const string GlueFile = "libLibTorchSharp.so";

    /// <summary>Symbol versions the glue library asks for that it never binds a symbol to.</summary>
    static readonly HashSet<string> UnusedVersionNeeds = ["GLIBCXX_3.4.32"];

    /// <summary>libtorch's own libraries, loaded by full path before the patched copy: that copy lives
    /// in the cache, so its <c>$ORIGIN</c> run path no longer finds them.</summary>
    static readonly string[] Dependencies = ["libc10.so", "libtorch_cpu.so", "libtorch.so"];

    /// <summary>The AppContext switch that turns the fix off: <c>&lt;RuntimeHostConfigurationOption Include="LeNetTorchSharp.DisableNativeLoadFix" Value="true" /&gt;</c>
    /// in the application's project, or the same key in its <c>runtimeconfig.json</c>.</summary>
    public const string DisableSwitch = "LeNetTorchSharp.DisableNativeLoadFix";

    /// <summary>The environment variable that turns the fix off when set to <c>1</c> or <c>true</c>.</summary>
    public const string DisableVariable = "LENET_TORCHSHARP_DISABLE_NATIVE_FIX";

    static readonly Lock Gate = new();
    static readonly List<string> Attempts = [];
    static bool installed;
    static bool loaded;
    static IntPtr patchedHandle;

    /// <summary>The patched copy of the glue library in use, or <c>null</c> when none was needed.</summary>
    public static string? PatchedLibraryPath { get; private set; }

    /// <summary>Whether the fix may run in this process: true unless <see cref="DisableSwitch"/> or <see cref="DisableVariable"/> turns it off.</summary>
    public static bool Enabled { get; } = !IsDisabled(
        AppContext.TryGetSwitch(DisableSwitch, out var disabled) ? disabled : null,
        Environment.GetEnvironmentVariable(DisableVariable));

    /// <summary>Whether the switch or the variable says "off"; the switch, set in the application's own configuration, wins.</summary>
    internal static bool IsDisabled(bool? appContextSwitch, string? variable) =>
        appContextSwitch ?? (variable is not null && (variable.Trim() == "1" || variable.Trim().Equals("true", StringComparison.OrdinalIgnoreCase)));

#pragma warning disable CA2255 // A library initializer is the point: the fix must be in place before any TorchSharp call made through this library.
    [ModuleInitializer]
    internal static void InstallOnAssemblyLoad()
    {
        if (Enabled) Install();
    }
#pragma warning restore CA2255

    /// <summary>Installs the load fallback (idempotent and cheap; where TorchSharp was loaded from NuGet's package
    /// folder, as in notebooks, it also loads libtorch from there).</summary>
    internal static void Install()
    {
        lock (Gate)
        {
            if (installed || !Enabled) return;
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
            if (OperatingSystem.IsLinux() && LoadedFromPackageFolder()) PreloadLibtorchFromPackages();
            installed = true;
        }
    }

    /// <summary>
    /// Loads libtorch and TorchSharp's glue now, so that a failure surfaces here with one clear message
    /// rather than at the first tensor operation.
    /// </summary>
    /// <exception cref="TorchNativeLoadException">No attempt to load the native libraries succeeded.</exception>
    public static void EnsureLoaded()
    {
        Install();
        lock (Gate)
        {
            if (loaded) return;
            try
            {
                InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                var tried = !Enabled ? $"  off ({DisableSwitch} or {DisableVariable} is set; unset it to let the library load a patched copy)"
                    : Attempts.Count == 0 ? "  (the fallback was not reached)"
                    : string.Join(Environment.NewLine, Attempts.Select(a => "  " + a));
                var loader = LoaderReason() is { } reason ? $"{Environment.NewLine}Loader: {reason}" : "";
                throw new TorchNativeLoadException(
                    $"TorchSharp's native libraries could not be loaded.{Environment.NewLine}" +
                    $"Normal load: {ErrorText.FirstLine((e as TypeInitializationException)?.InnerException?.Message ?? e.Message)}{loader}{Environment.NewLine}" +
                    $"Fallback for old libstdc++ (Linux only):{Environment.NewLine}{tried}{Environment.NewLine}" +
                    "Check that the project references TorchSharp and the libtorch package for this OS " +
                    "(README, \"Referencing the package\"), and that the build output contains runtimes/<rid>/native.", e);
            }
            loaded = true;
        }
    }

    /// <summary>
    /// The dynamic loader's own words for TorchSharp's glue library, read after a failed load: TorchSharp reports any
    /// failure as a missing backend package, even when the package is there and the loader refused the library.
    /// </summary>
    static string? LoaderReason()
    {
        if (!OperatingSystem.IsLinux() || FindInNativeDirectories(GlueFile) is not { } glue) return null;
        try
        {
            NativeLibrary.Free(NativeLibrary.Load(glue));
            return null;
        }
        catch (DllNotFoundException e)
        {
            // .NET's sentence about strace and LD_DEBUG comes first; the loader's own (dlerror) is the last line.
            return e.Message.Split('\n').Select(line => line.Trim()).LastOrDefault(line => line.Length > 0);
        }
    }

    static IntPtr Resolve(Assembly assembly, string name)
    {
        if (name != GlueLibrary || !OperatingSystem.IsLinux()) return IntPtr.Zero;
        lock (Gate)
        {
            if (patchedHandle != IntPtr.Zero) return patchedHandle;
            try
            {
                patchedHandle = LoadPatchedCopy();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or DllNotFoundException or BadImageFormatException or FileNotFoundException)
            {
                Attempts.Add(e.Message);
            }
            return patchedHandle;
        }
    }

    /// <summary>
    /// Whether TorchSharp was loaded straight from NuGet's package folder, as .NET Interactive notebooks and F#
    /// Interactive load it: then no application lists where libtorch is, and loading it by name finds whatever
    /// libtorch the system has (Debian's python3-torch installs one, of another version) before the package's.
    /// </summary>
    static bool LoadedFromPackageFolder() => TorchSharpPackageFolder() is not null;

    /// <summary>The TorchSharp package folder TorchSharp.dll was loaded from, or null when it was loaded from an
    /// application's output folder.</summary>
    static string? TorchSharpPackageFolder()
    {
        var location = typeof(torch).Assembly.Location;
        if (string.IsNullOrEmpty(location)) return null;
        // .../torchsharp/<version>/lib/<framework>/TorchSharp.dll
        var package = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(location)!, "..", ".."));
        var isPackage = string.Equals(Path.GetFileName(Path.GetDirectoryName(package)), "torchsharp", StringComparison.OrdinalIgnoreCase)
            && File.Exists(Path.Combine(package, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", GlueFile));
        return isPackage ? package : null;
    }

    /// <summary>
    /// Loads libtorch from the restored backend package, by full path, before TorchSharp looks for it by name: a
    /// library loaded by name is then this one (glibc matches it by its name), not the system's of another version,
    /// and the glue library binds to the libtorch it was built for.
    /// </summary>
    static void PreloadLibtorchFromPackages()
    {
        foreach (var dependency in Dependencies)
        {
            var path = FindInNativeDirectories(dependency);
            if (path is null || !NativeLibrary.TryLoad(path, out _))
            {
                Attempts.Add($"{dependency} could not be preloaded from the restored packages ({path ?? "not found"})");
                return;
            }
            Attempts.Add($"preloaded {path}");
        }
    }

    static IntPtr LoadPatchedCopy()
    {
        var original = FindInNativeDirectories(GlueFile)
            ?? throw new FileNotFoundException($"{GlueFile} not found in the native search directories: {string.Join(", ", NativeDirectories())}");
        Attempts.Add($"found {original}");

        foreach (var dependency in Dependencies)
        {
            var path = FindInNativeDirectories(dependency)
                ?? throw new FileNotFoundException($"{dependency} (libtorch) not found in the native search directories: {string.Join(", ", NativeDirectories())}");
            NativeLibrary.Load(path);
            Attempts.Add($"loaded {path}");
        }

        var patched = PatchedCopy(original, CacheRoot());
        var handle = NativeLibrary.Load(patched);
        Attempts.Add($"loaded patched copy {patched}");
        PatchedLibraryPath = patched;
        return handle;
    }

    /// <summary>Writes (once) and returns the patched copy of <paramref name="original"/> under <paramref name="cacheRoot"/>.</summary>
    internal static string PatchedCopy(string original, string cacheRoot)
    {
        var bytes = File.ReadAllBytes(original);
        var hash = Convert.ToHexStringLower(SHA256.HashData(bytes))[..16];
        var directory = Path.Combine(cacheRoot, hash);
        var target = Path.Combine(directory, GlueFile);
        if (File.Exists(target)) return target;

        var changed = ElfVersionPatcher.MarkWeak(bytes, UnusedVersionNeeds);
        if (changed == 0)
            throw new InvalidDataException($"{original} fails to load but has no {string.Join("/", UnusedVersionNeeds)} requirement to relax; the cause is something else");

        AtomicFile.WriteAllBytes(target, bytes);
        return target;
    }

    static string CacheRoot()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrEmpty(xdg) ? xdg
            : !string.IsNullOrEmpty(home) ? Path.Combine(home, ".cache")
            : Path.GetTempPath();
        return Path.Combine(root, "lenet-torchsharp", "native");
    }

    static string? FindInNativeDirectories(string file) =>
        NativeDirectories().Select(d => Path.Combine(d, file)).FirstOrDefault(File.Exists);

    /// <summary>
    /// Where the host looks for native assets (from the app's deps.json), then beside TorchSharp, then, for hosts
    /// that load TorchSharp straight from NuGet's package folder (.NET Interactive notebooks, F# Interactive), the
    /// native folders of the TorchSharp package and of the libtorch backend packages beside it.
    /// </summary>
    static IEnumerable<string> NativeDirectories()
    {
        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string list)
            foreach (var d in list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
                yield return d;
        var torchSharp = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (string.IsNullOrEmpty(torchSharp)) yield break;
        var rid = RuntimeInformation.RuntimeIdentifier;
        yield return torchSharp;
        yield return Path.Combine(torchSharp, "runtimes", rid, "native");

        // Only where TorchSharp came straight from NuGet's package folder: .../packages/torchsharp/<version>.
        if (TorchSharpPackageFolder() is not { } package) yield break;
        yield return Path.Combine(package, "runtimes", rid, "native");
        var packages = Path.GetDirectoryName(Path.GetDirectoryName(package));
        if (packages is null || !Directory.Exists(packages)) yield break;
        foreach (var backend in BackendPackages(packages, rid))
            yield return backend;
    }

    /// <summary>
    /// The native folders of the libtorch backend packages restored in <paramref name="packages"/>: the CPU build
    /// before CUDA's, newest version first, so the first holding a library is the one a notebook most likely
    /// referenced (TorchSharp 0.107 takes LibTorch 2.10.0).
    /// </summary>
    static IEnumerable<string> BackendPackages(string packages, string rid) =>
        Directory.GetDirectories(packages, "libtorch-*")
            .Where(p => Path.GetFileName(p).Contains(rid, StringComparison.OrdinalIgnoreCase))
            .OrderBy(p => Path.GetFileName(p).Contains("cuda", StringComparison.OrdinalIgnoreCase))
            .SelectMany(p => Directory.GetDirectories(p)
                .Select(v => (Folder: v, Version: Version.TryParse(Path.GetFileName(v), out var version) ? version : new Version(0, 0)))
                .OrderByDescending(v => v.Version)
                .Select(v => Path.Combine(v.Folder, "runtimes", rid, "native")))
            .Where(Directory.Exists);
}
