using LeNetTorchSharp.Native;

namespace LeNetTorchSharp.Tests;

/// <summary>Loads libtorch once, before any test, so a load failure is one clear error instead of one per test.</summary>
[SetUpFixture]
public sealed class TorchSetup
{
    [OneTimeSetUp]
    public void LoadTorch()
    {
        TorchNative.EnsureLoaded();
        TorchSharp.torch.manual_seed(0);
    }
}
