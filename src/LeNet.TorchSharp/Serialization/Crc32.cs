namespace LeNetTorchSharp.Serialization;

/// <summary>The zip format's CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), which .NET's ZipArchive records but does not check.</summary>
internal static class Crc32
{
    static readonly uint[] Table = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    /// <summary>The CRC-32 of everything left in <paramref name="stream"/>.</summary>
    public static uint Of(Stream stream)
    {
        var crc = 0xFFFFFFFFu;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = stream.Read(buffer)) > 0)
            foreach (var b in buffer.AsSpan(0, read))
                crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return ~crc;
    }
}
