using TorchSharp;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>Reads IDX files (<see cref="IdxFile"/>) into tensors.</summary>
internal static class IdxReader
{
    /// <summary>
    /// Reads an IDX file (as <see cref="IdxFile.Read(string, int)"/>) straight into a uint8 tensor of its shape, without
    /// an intermediate managed copy, so MNIST's training images are held once, in native memory.
    /// </summary>
    public static Tensor ReadTensor(string path, int dimensions)
    {
        Tensor? data = null;
        try
        {
            // Copied straight into the tensor's own memory (its bytes span), a memcpy per chunk: TorchSharp's
            // element accessor is many times slower for MNIST's 47 MB.
            var shape = IdxFile.Read(path, dimensions,
                size => data = empty(size, ScalarType.Byte),
                (chunk, offset) => chunk.CopyTo(data!.bytes[checked((int)offset)..]));
            using (data)
                return data!.reshape(shape.Select(d => (long)d).ToArray());
        }
        catch
        {
            data?.Dispose();
            throw;
        }
    }
}
