namespace LeNetTorchSharp.Data;

/// <summary>A dataset could not be downloaded. The message lists each address tried, why it failed, and
/// how to get the files by hand.</summary>
public sealed class DatasetDownloadException(string message, Exception? inner = null) : IOException(message, inner);
