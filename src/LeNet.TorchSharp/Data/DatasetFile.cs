namespace LeNetTorchSharp.Data;

/// <summary>One file of an IDX dataset: its name, and the exact size and MD5 of its uncompressed content
/// (checked after every download, whatever compression the mirror used).</summary>
internal sealed record DatasetFile(string Name, long RawBytes, string RawMd5);
