using TorchSharp;
using static TorchSharp.torch;

namespace TrainMnist;

/// <summary>Which device to train on (<c>--device</c>).</summary>
public enum DeviceChoice
{
    /// <summary>CUDA when TorchSharp reports it, else the CPU.</summary>
    Auto,

    /// <summary>The CPU.</summary>
    Cpu,

    /// <summary>The first CUDA GPU; fails if CUDA is not available.</summary>
    Cuda,
}

/// <summary>Turns a <see cref="DeviceChoice"/> into a TorchSharp device.</summary>
public static class DeviceChoices
{
    /// <summary>The device for <paramref name="choice"/>.</summary>
    /// <exception cref="InvalidOperationException">CUDA was asked for but is not available; the message explains the build switch.</exception>
    public static Device Select(this DeviceChoice choice) => choice switch
    {
        DeviceChoice.Cpu => CPU,
        DeviceChoice.Auto => cuda.is_available() ? CUDA : CPU,
        DeviceChoice.Cuda => cuda.is_available() ? CUDA : throw new InvalidOperationException(
            "--device cuda: CUDA is not available. This build uses the CPU libtorch backend (or no CUDA GPU/driver was found). " +
            "To train on an NVIDIA GPU, build with the CUDA backend: dotnet build -p:TorchBackend=cuda " +
            "(LibTorch 2.10.0 for CUDA 12.8; needs an NVIDIA driver that supports CUDA 12.8), then run with --device cuda or --device auto."),
        _ => throw new ArgumentOutOfRangeException(nameof(choice), choice, "unknown device choice."),
    };

    /// <summary>How the run's header line names the device.</summary>
    public static string Describe(Device device) =>
        device.type == DeviceType.CUDA ? $"CUDA GPU {Math.Max(device.index, 0)}" : $"CPU, {get_num_threads()} threads";
}
