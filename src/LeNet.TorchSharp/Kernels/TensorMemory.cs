using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>The kernels' view of a tensor: its float32 elements in place.</summary>
internal static class TensorMemory
{
    /// <summary>A view of a contiguous float32 CPU tensor's memory: TorchSharp's <c>bytes</c> are the tensor's own, not a
    /// copy, so the kernels read and write the tensor itself.</summary>
    public static Span<float> Floats(Tensor t) => MemoryMarshal.Cast<byte, float>(t.bytes);
}
