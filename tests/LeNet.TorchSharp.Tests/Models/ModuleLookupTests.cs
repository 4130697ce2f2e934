using LeNetTorchSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace LeNetTorchSharp.Tests.Models;

public class ModuleLookupTests
{
    static Sequential Named() => Sequential(
        ("fc1", Linear(784, 128)), ("relu1", ReLU()), ("fc2", Linear(128, 64)), ("relu2", ReLU()),
        ("output", Linear(64, 10)), ("softmax", Softmax(dim: 1)));

    [Test]
    public void A_layer_found_by_name_is_the_models_own_object()
    {
        using var model = Named();
        Assert.That(model.Layer("fc1"), Is.SameAs(model[0]));
        Assert.That(model.Layer<Linear>("output").weight!.shape, Is.EqualTo(new long[] { 10, 64 }));
        using var mlp = new Mlp();
        Assert.That(mlp.Layer<Linear>("fc2").weight!.shape, Is.EqualTo(new long[] { 64, 128 }));
    }

    [Test]
    public void A_missing_name_lists_the_names_there_are_and_a_wrong_type_names_both()
    {
        using var model = Named();
        var error = Assert.Throws<ArgumentException>(() => model.Layer("fc3"));
        Assert.That(error!.Message, Does.StartWith("Sequential has no layer named 'fc3'; its layers are: fc1, relu1, fc2, relu2, output, softmax."));
        var wrongType = Assert.Throws<ArgumentException>(() => model.Layer<Conv2d>("fc1"));
        Assert.That(wrongType!.Message, Does.StartWith("layer 'fc1' of Sequential is a Linear, not a Conv2d."));
    }
}
