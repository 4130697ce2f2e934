using LeNetTorchSharp.Native;
using NUnit.Framework.Interfaces;
using static TorchSharp.torch;

[assembly: LeNetTorchSharp.Tests.RestoresTorchRng]

namespace LeNetTorchSharp.Tests;

/// <summary>Loads libtorch once, before any test, so a load failure is one clear error instead of one per test.</summary>
[SetUpFixture]
public sealed class TorchSetup
{
    [OneTimeSetUp]
    public void LoadTorch()
    {
        TorchNative.EnsureLoaded();
        manual_seed(0);
    }
}

/// <summary>
/// Puts torch's global generator back as each test found it: tests (and the trainer program they run in-process) call
/// <c>manual_seed</c>, which would otherwise decide the random numbers of every test after them.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class RestoresTorchRngAttribute : Attribute, ITestAction
{
    Tensor? saved;

    public ActionTargets Targets => ActionTargets.Test;

    public void BeforeTest(ITest test) => saved = LeNetTorchSharp.Training.TorchRng.GetState();

    public void AfterTest(ITest test)
    {
        if (saved is null) return;
        LeNetTorchSharp.Training.TorchRng.SetState(saved);
        saved.Dispose();
        saved = null;
    }
}
