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
    public void A_submodule_found_by_name_is_the_models_own_object()
    {
        using var model = Named();
        Assert.That(model.get_submodule("fc1"), Is.SameAs(model[0]));
        Assert.That(model.get_submodule<Linear>("output").weight!.shape, Is.EqualTo(new long[] { 10, 64 }));
        using var mlp = new Mlp();
        Assert.That(mlp.get_submodule<Linear>("fc2").weight!.shape, Is.EqualTo(new long[] { 64, 128 }));
    }

    [Test]
    public void A_dotted_path_reaches_a_nested_submodule_and_the_empty_path_is_the_module_itself()
    {
        using var model = Sequential(("features", Sequential(Linear(4, 3), ReLU())), ("head", Linear(3, 2)));
        Assert.That(model.get_submodule<Linear>("features.0").weight!.shape, Is.EqualTo(new long[] { 3, 4 }));
        Assert.That(model.get_submodule(""), Is.SameAs(model));
    }

    [Test]
    public void A_missing_name_lists_the_names_there_are_and_a_wrong_type_names_both()
    {
        using var model = Named();
        var error = Assert.Throws<ArgumentException>(() => model.get_submodule("fc3"));
        Assert.That(error!.ParamName, Is.EqualTo("target"));
        Assert.That(error.Message, Does.StartWith("Sequential has no submodule named 'fc3'; its children are: fc1, relu1, fc2, relu2, output, softmax."));
        var deeper = Assert.Throws<ArgumentException>(() => model.get_submodule("fc1.weight"));
        Assert.That(deeper!.Message, Does.StartWith("'fc1' (Linear) has no submodule named 'weight'; its children are: none."));
        var wrongType = Assert.Throws<ArgumentException>(() => model.get_submodule<Conv2d>("fc1"));
        Assert.That(wrongType!.Message, Does.StartWith("'fc1' of Sequential is a Linear, not a Conv2d."));
    }
}
