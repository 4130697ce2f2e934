namespace LeNetTorchSharp.Tests.Hardening;

/// <summary>Seeded damage to a valid file: truncations, flipped bytes and header fields set to extremes.</summary>
internal static class Mutations
{
    static readonly byte[][] Extremes =
    [
        [0, 0, 0, 0], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF], [0x80, 0, 0, 0],
        [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F], [0, 0, 0, 0x80, 0, 0, 0, 0],
    ];

    /// <summary><paramref name="count"/> damaged copies of <paramref name="valid"/>, the same for the same seed.</summary>
    public static IEnumerable<(int Case, byte[] Bytes)> Of(byte[] valid, int count, int seed)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            var bytes = valid.ToArray();
            switch (random.Next(4))
            {
                case 0: // truncated anywhere
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                case 1: // a few bytes flipped anywhere
                    for (var k = random.Next(1, 9); k > 0; k--) bytes[random.Next(bytes.Length)] ^= (byte)random.Next(1, 256);
                    break;
                case 2: // a header field set to an extreme
                    var extreme = Extremes[random.Next(Extremes.Length)];
                    var at = random.Next(Math.Max(1, Math.Min(bytes.Length, 96) - extreme.Length));
                    extreme.AsSpan(0, Math.Min(extreme.Length, bytes.Length - at)).CopyTo(bytes.AsSpan(at));
                    break;
                default: // garbage appended or a byte range zeroed
                    if (random.Next(2) == 0) bytes = [.. bytes, .. Enumerable.Range(0, random.Next(1, 64)).Select(_ => (byte)random.Next(256))];
                    else bytes.AsSpan(random.Next(bytes.Length / 2), random.Next(1, Math.Max(2, bytes.Length / 4))).Clear();
                    break;
            }
            yield return (i, bytes);
        }
    }
}
