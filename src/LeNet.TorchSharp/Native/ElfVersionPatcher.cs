using System.Buffers.Binary;
using System.Text;

namespace LeNetTorchSharp.Native;

/// <summary>
/// Marks symbol-version requirements of an ELF64 shared library as weak, so that the dynamic
/// loader accepts the library on a system that lacks those versions.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>libLibTorchSharp.so</c> was built with GCC 13, whose <c>&lt;iostream&gt;</c>
/// leaves an unused reference to <c>std::ios_base_library_init()</c> tagged <c>GLIBCXX_3.4.32</c>.
/// glibc refuses to load a library whose required version is missing unless that requirement
/// carries <c>VER_FLG_WEAK</c>; nothing calls the symbol, so flagging it weak is all it takes.
/// Only the <c>vna_flags</c> field of the named entries changes; every other byte stays as it was.
/// </remarks>
internal static class ElfVersionPatcher
{
    const uint ShtGnuVerneed = 0x6ffffffe;
    const ushort VerFlgWeak = 0x2;
    const int SectionHeaderSize = 64;
    const int VerneedSize = 16;
    const int VernauxSize = 16;

    /// <summary>One version requirement found in the library: the file it is needed from and the version name.</summary>
    public readonly record struct VersionNeed(string File, string Version, bool Weak);

    /// <summary>Lists the version requirements (<c>.gnu.version_r</c>) of an ELF64 little-endian image.</summary>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ELF64 little-endian image.</exception>
    public static IReadOnlyList<VersionNeed> ReadVersionNeeds(ReadOnlySpan<byte> elf)
    {
        var needs = new List<VersionNeed>();
        foreach (var e in Walk(elf))
            needs.Add(new VersionNeed(e.File, e.Version, (U16(elf, e.FlagsOffset) & VerFlgWeak) != 0));
        return needs;
    }

    /// <summary>
    /// Sets <c>VER_FLG_WEAK</c> on every requirement whose version name is in <paramref name="versions"/>.
    /// </summary>
    /// <returns>How many entries were changed (already-weak entries are not counted).</returns>
    /// <exception cref="InvalidDataException">The bytes are not a well-formed ELF64 little-endian image.</exception>
    public static int MarkWeak(Span<byte> elf, IReadOnlySet<string> versions)
    {
        var changed = 0;
        foreach (var entry in Walk(elf))
        {
            if (!versions.Contains(entry.Version)) continue;
            var at = entry.FlagsOffset;
            var flags = U16(elf, at);
            if ((flags & VerFlgWeak) != 0) continue;
            BinaryPrimitives.WriteUInt16LittleEndian(elf.Slice(at, 2), (ushort)(flags | VerFlgWeak));
            changed++;
        }
        return changed;
    }

    readonly record struct Entry(string File, string Version, int FlagsOffset);

    static List<Entry> Walk(ReadOnlySpan<byte> elf)
    {
        var entries = new List<Entry>();
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file (no \\x7fELF magic)");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException($"expected a 64-bit little-endian ELF file, found class {elf[4]}, data encoding {elf[5]}");

        var shoff = U64(elf, 0x28);
        var shentsize = U16(elf, 0x3A);
        var shnum = U16(elf, 0x3C);
        if (shentsize != SectionHeaderSize)
            throw new InvalidDataException($"section header size is {shentsize}, expected {SectionHeaderSize}");
        var headers = Range(elf, shoff, (ulong)shnum * SectionHeaderSize, "section headers");

        for (var i = 0; i < shnum; i++)
        {
            var sh = headers.Slice(i * SectionHeaderSize, SectionHeaderSize);
            if (U32(sh, 4) != ShtGnuVerneed) continue;

            var section = Range(elf, U64(sh, 0x18), U64(sh, 0x20), ".gnu.version_r");
            var sectionStart = checked((int)U64(sh, 0x18));
            var link = U32(sh, 0x28);
            var count = U32(sh, 0x2C);
            if (link >= shnum) throw new InvalidDataException($".gnu.version_r links to section {link} of {shnum}");
            var strSh = headers.Slice((int)link * SectionHeaderSize, SectionHeaderSize);
            var strings = Range(elf, U64(strSh, 0x18), U64(strSh, 0x20), "version string table");

            var need = 0L;
            for (uint n = 0; n < count; n++)
            {
                var vn = Slice(section, need, VerneedSize, "Verneed entry");
                var auxCount = U16(vn, 2);
                var file = CString(strings, U32(vn, 4));
                var aux = need + U32(vn, 8);
                for (var a = 0; a < auxCount; a++)
                {
                    var vna = Slice(section, aux, VernauxSize, "Vernaux entry");
                    entries.Add(new Entry(file, CString(strings, U32(vna, 8)), sectionStart + (int)aux + 4));
                    var next = U32(vna, 12);
                    if (next == 0) break;
                    aux += next;
                }
                var nextNeed = U32(vn, 12);
                if (nextNeed == 0) break;
                need += nextNeed;
            }
        }
        return entries;
    }

    static ReadOnlySpan<byte> Range(ReadOnlySpan<byte> elf, ulong offset, ulong size, string what)
    {
        if (offset > (ulong)elf.Length || size > (ulong)elf.Length - offset)
            throw new InvalidDataException($"{what} at offset {offset}, {size} bytes, lies outside the {elf.Length}-byte file");
        return elf.Slice((int)offset, (int)size);
    }

    static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> section, long offset, int size, string what)
    {
        if (offset < 0 || offset > section.Length - size)
            throw new InvalidDataException($"{what} at section offset {offset} lies outside the {section.Length}-byte .gnu.version_r");
        return section.Slice((int)offset, size);
    }

    static string CString(ReadOnlySpan<byte> table, uint offset)
    {
        if (offset >= table.Length)
            throw new InvalidDataException($"string offset {offset} lies outside the {table.Length}-byte string table");
        var rest = table[(int)offset..];
        var end = rest.IndexOf((byte)0);
        if (end < 0) throw new InvalidDataException($"string at offset {offset} is not terminated");
        return Encoding.ASCII.GetString(rest[..end]);
    }

    static ushort U16(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.Slice(at, 2));
    static uint U32(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.Slice(at, 4));
    static ulong U64(ReadOnlySpan<byte> b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.Slice(at, 8));
}
