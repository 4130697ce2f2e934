using System.Buffers.Binary;
using System.IO.Compression;

namespace LeNetTorchSharp.Data;

/// <summary>
/// An IDX file of unsigned bytes (the format of MNIST and Fashion-MNIST), raw or gzip-compressed: its dimensions and
/// its row-major data.
/// </summary>
/// <remarks>
/// Layout: a big-endian magic number <c>0x00 0x00 type ndims</c> (type 0x08 = unsigned byte), <c>ndims</c>
/// big-endian int32 sizes, then the data. Every size is checked before anything is allocated: a header
/// claiming more data than the file holds is rejected, never trusted.
/// </remarks>
/// <param name="Shape">The sizes the header gives: N x rows x columns for images, N for labels.</param>
/// <param name="Data">The bytes, row-major.</param>
public sealed record IdxFile(int[] Shape, byte[] Data)
{
    const byte UnsignedByte = 0x08;

    /// <summary>Largest payload accepted (1 GiB): far above MNIST's 47 MB, far below what a corrupt header could ask for.</summary>
    public const long MaxPayloadBytes = 1L << 30;

    /// <summary>Reads an IDX file of unsigned bytes with <paramref name="dimensions"/> dimensions.</summary>
    /// <param name="path">The file; a name ending in <c>.gz</c> is decompressed.</param>
    /// <param name="dimensions">Expected number of dimensions: 3 for images (N, rows, cols), 1 for labels.</param>
    /// <exception cref="DatasetException">The file is missing or unreadable, or has a wrong magic number, type,
    /// dimensions, or a size that does not match the file.</exception>
    public static IdxFile Read(string path, int dimensions)
    {
        byte[]? data = null;
        var shape = Read(path, dimensions, size => data = new byte[size], (chunk, offset) => chunk.CopyTo(data.AsSpan(checked((int)offset))));
        return new IdxFile(shape, data!);
    }

    internal delegate void PayloadSink(ReadOnlySpan<byte> chunk, long offset);

    /// <summary>Reads the header, checks every size against the file, then hands the payload over in chunks: the
    /// library's MNIST reads straight into a tensor's memory this way.</summary>
    internal static int[] Read(string path, int dimensions, Action<long> allocate, PayloadSink write)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 1);
        var compressed = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase);
        using var file = InputFile.OpenRead(path, MaxPayloadBytes + 64, (p, problem) => new DatasetException(p, problem));
        try
        {
            using Stream stream = compressed ? new GZipStream(file, CompressionMode.Decompress) : file;
            return Read(stream, path, dimensions, compressed ? null : file.Length, allocate, write);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException(path, $"not a valid gzip file ({e.Message})");
        }
    }

    static int[] Read(Stream stream, string path, int dimensions, long? fileLength, Action<long> allocate, PayloadSink write)
    {
        var expectedMagic = (UnsignedByte << 8) | dimensions;
        var header = new byte[4 + 4 * dimensions];
        var headerRead = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (headerRead < 4)
            throw new DatasetException(path, $"expected an IDX header starting with magic number 0x{expectedMagic:X8}, found {(headerRead == 0 ? "an empty file" : $"only {headerRead} bytes")}");

        var magic = BinaryPrimitives.ReadInt32BigEndian(header);
        if (magic != expectedMagic)
            throw new DatasetException(path, $"expected magic number 0x{expectedMagic:X8} ({Describe(dimensions)}), found 0x{magic:X8}");
        if (headerRead < header.Length)
            throw new DatasetException(path, $"expected a {header.Length}-byte header, found only {headerRead} bytes");

        var shape = new int[dimensions];
        long payload = 1;
        for (var d = 0; d < dimensions; d++)
        {
            shape[d] = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(4 + 4 * d));
            if (shape[d] < 0)
                throw new DatasetException(path, $"dimension {d} is negative ({shape[d]})");
            payload *= shape[d];
            if (payload > MaxPayloadBytes)
                throw new DatasetException(path, $"header sizes [{string.Join(", ", shape[..(d + 1)])}…] describe more than {MaxPayloadBytes} bytes; refusing to allocate");
        }

        if (fileLength is { } length && length != header.Length + payload)
            throw new DatasetException(path,
                $"header [{string.Join(", ", shape)}] means {header.Length + payload} bytes, found {length} bytes" +
                (length < header.Length + payload ? $" (truncated: {header.Length + payload - length} bytes missing)" : $" ({length - header.Length - payload} trailing bytes)"));

        allocate(payload);
        var buffer = new byte[(int)Math.Min(payload, 1 << 20)];
        long done = 0;
        while (done < payload)
        {
            var read = stream.ReadAtLeast(buffer, (int)Math.Min(buffer.Length, payload - done), throwOnEndOfStream: false);
            if (read == 0) break;
            write(buffer.AsSpan(0, read), done);
            done += read;
        }
        if (done < payload)
            throw new DatasetException(path, $"header [{string.Join(", ", shape)}] means {payload} data bytes, found only {done} (truncated: {payload - done} bytes missing)");
        if (stream.ReadByte() >= 0)
            throw new DatasetException(path, $"header [{string.Join(", ", shape)}] means {payload} data bytes, found more (trailing data)");
        return shape;
    }

    static string Describe(int dimensions) => dimensions switch
    {
        1 => "unsigned-byte labels, 1 dimension",
        3 => "unsigned-byte images, 3 dimensions",
        _ => $"unsigned bytes, {dimensions} dimensions",
    };
}
