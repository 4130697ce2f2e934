using static TorchSharp.torch;

namespace LeNetTorchSharp;

/// <summary>Device comparisons for the argument checks: TorchSharp's <c>Device</c> has no equality of its own.</summary>
internal static class Devices
{
    /// <summary>Whether a tensor on <paramref name="a"/> can be used with one on <paramref name="b"/>
    /// (same type; same index where both name one).</summary>
    public static bool Same(Device a, Device b) =>
        a.type == b.type && (a.index < 0 || b.index < 0 || a.index == b.index);
}
