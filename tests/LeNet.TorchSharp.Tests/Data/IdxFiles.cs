using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using LeNetTorchSharp.Data;

namespace LeNetTorchSharp.Tests.Data;

/// <summary>Writes IDX files for tests: small MNIST-format datasets with known contents.</summary>
internal static class IdxFiles
{
    public static byte[] Encode(int magic, int[] shape, byte[] data)
    {
        var bytes = new byte[4 + 4 * shape.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (var i = 0; i < shape.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), shape[i]);
        data.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    public static byte[] Images(int count, Func<int, int, int, byte>? pixel = null)
    {
        var data = new byte[count * 28 * 28];
        for (var n = 0; n < count; n++)
            for (var r = 0; r < 28; r++)
                for (var c = 0; c < 28; c++)
                    data[(n * 28 + r) * 28 + c] = pixel?.Invoke(n, r, c) ?? (byte)((n * 7 + r * 3 + c) % 256);
        return Encode(0x803, [count, 28, 28], data);
    }

    public static byte[] Labels(params byte[] labels) => Encode(0x801, [labels.Length], labels);

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(raw);
        return output.ToArray();
    }

    public static string Md5(byte[] bytes) => Convert.ToHexStringLower(MD5.HashData(bytes));

    /// <summary>A complete small dataset (train: <paramref name="trainCount"/>, test: 4) in <paramref name="root"/>, raw files.</summary>
    public static void WriteDataset(string root, int trainCount = 12)
    {
        Directory.CreateDirectory(root);
        var mnist = MnistResources.Mnist;
        File.WriteAllBytes(Path.Combine(root, mnist.TrainImages.Name), Images(trainCount));
        File.WriteAllBytes(Path.Combine(root, mnist.TrainLabels.Name), Labels(Enumerable.Range(0, trainCount).Select(i => (byte)(i % 10)).ToArray()));
        File.WriteAllBytes(Path.Combine(root, mnist.TestImages.Name), Images(4));
        File.WriteAllBytes(Path.Combine(root, mnist.TestLabels.Name), Labels(3, 1, 4, 1));
    }
}

/// <summary>A temporary folder deleted after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("lenet-test-").FullName;
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
