namespace LeNetTorchSharp.Native;

/// <summary>
/// TorchSharp's native libraries could not be loaded. The message lists every attempt that was made
/// (the normal load, and on Linux the patched copy) and what each one reported.
/// </summary>
public sealed class TorchNativeLoadException(string message, Exception? inner = null) : Exception(message, inner);
