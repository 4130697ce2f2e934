using static TorchSharp.torch;

namespace LeNetTorchSharp.Models;

/// <summary>
/// PyTorch's <c>Module.get_submodule</c>, which TorchSharp lacks: a child module by its name (<c>model.fc1</c>, or
/// <c>model['fc1']</c> on a named <c>Sequential</c>), or a deeper one by a dotted path (<c>"features.0"</c>).
/// </summary>
public static class ModuleLookup
{
    /// <summary>The submodule at <paramref name="target"/>, a dotted path of child names as in
    /// <c>named_modules()</c>; the empty string is the module itself.</summary>
    /// <exception cref="ArgumentException">A name on the path names no child; the message lists the names there are.</exception>
    public static nn.Module get_submodule(this nn.Module module, string target)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(target);
        if (target.Length == 0) return module;
        var current = module;
        var path = "";
        foreach (var name in target.Split('.'))
        {
            var children = current.named_children().ToList();
            var found = children.FirstOrDefault(c => c.name == name).module;
            if (found is null)
                throw new ArgumentException(
                    $"{(path.Length == 0 ? module.GetType().Name : $"'{path}' ({current.GetType().Name})")} has no submodule named '{name}'; " +
                    $"its children are: {(children.Count == 0 ? "none" : string.Join(", ", children.Select(c => c.name)))}.", nameof(target));
            path = path.Length == 0 ? name : $"{path}.{name}";
            current = found;
        }
        return current;
    }

    /// <summary>The submodule at <paramref name="target"/> as a <typeparamref name="T"/>, e.g.
    /// <c>model.get_submodule&lt;Linear&gt;("fc1").weight</c>.</summary>
    /// <exception cref="ArgumentException">No submodule is at that path, or it is not a <typeparamref name="T"/>.</exception>
    public static T get_submodule<T>(this nn.Module module, string target) where T : nn.Module
    {
        var found = module.get_submodule(target);
        return found as T
            ?? throw new ArgumentException($"'{target}' of {module.GetType().Name} is a {found.GetType().Name}, not a {typeof(T).Name}.", nameof(target));
    }
}
