namespace LeNetTorchSharp.Data;

/// <summary>One file of an IDX dataset: its name, its exact size and MD5 raw, and the MD5 of its <c>.gz</c> download.</summary>
public sealed record DatasetFile(string Name, long RawBytes, string RawMd5, string GzipMd5);
