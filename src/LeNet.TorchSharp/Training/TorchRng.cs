using static TorchSharp.torch;

namespace LeNetTorchSharp.Training;

/// <summary>
/// The state of torch's default random generator, read and set through a generator wrapper held until the native
/// call returns. TorchSharp's <c>random.get_rng_state()</c> and <c>set_rng_state()</c> call through a temporary
/// wrapper that nothing references during the call, so a collection started on another thread can run its finalizer,
/// which frees the handle libtorch is using (a crash, seen in the checkpoint fuzz test).
/// </summary>
internal static class TorchRng
{
    /// <summary><c>torch.get_rng_state()</c>.</summary>
    public static Tensor GetState()
    {
        using var generator = Generator.Default;
        return generator.get_state();
    }

    /// <summary><c>torch.set_rng_state(state)</c>.</summary>
    public static void SetState(Tensor state)
    {
        using var generator = Generator.Default;
        generator.set_state(state);
    }
}
