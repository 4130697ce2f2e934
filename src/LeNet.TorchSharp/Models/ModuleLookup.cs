using static TorchSharp.torch;

namespace LeNetTorchSharp.Models;

/// <summary>
/// Child modules by name, as PyTorch gives them by attribute (<c>model.fc1</c>) or by key
/// (<c>model['fc1']</c> on a named <c>Sequential</c>). TorchSharp's <c>Sequential</c> only indexes by position.
/// </summary>
public static class ModuleLookup
{
    /// <summary>The direct child named <paramref name="name"/>, e.g. <c>model.Layer("fc1")</c>.</summary>
    /// <exception cref="ArgumentException">No child has that name; the message lists the names there are.</exception>
    public static nn.Module Layer(this nn.Module module, string name)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(name);
        var children = module.named_children().ToList();
        foreach (var (childName, child) in children)
            if (childName == name) return child;
        throw new ArgumentException(
            $"{module.GetType().Name} has no layer named '{name}'; its layers are: {string.Join(", ", children.Select(c => c.name))}.", nameof(name));
    }

    /// <summary>The direct child named <paramref name="name"/>, as a <typeparamref name="T"/>, e.g. <c>model.Layer&lt;Linear&gt;("fc1").weight</c>.</summary>
    /// <exception cref="ArgumentException">No child has that name, or it is not a <typeparamref name="T"/>.</exception>
    public static T Layer<T>(this nn.Module module, string name) where T : nn.Module =>
        module.Layer(name) is T typed
            ? typed
            : throw new ArgumentException($"layer '{name}' of {module.GetType().Name} is a {module.Layer(name).GetType().Name}, not a {typeof(T).Name}.", nameof(name));
}
