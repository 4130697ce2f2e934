using System.Reflection;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Kernels;

/// <summary>Whether a layer has forward hooks, which a kernel taking the layer's place would skip.</summary>
internal static class ModuleHooks
{
    // TorchSharp keeps a module's hooks in protected dictionaries and offers no way to ask whether there are any; a
    // hook must run, so a kernel is taken only when they can be read and are all empty.
    static readonly FieldInfo[]? HookFields = FindHookFields();

    static FieldInfo[]? FindHookFields()
    {
        var type = typeof(nn.Module<Tensor, Tensor>);
        while (type is not null && !(type.IsGenericType && type.GetGenericTypeDefinition().Name.StartsWith("HookableModule", StringComparison.Ordinal)))
            type = type.BaseType;
        if (type is null) return null;
        string[] names = ["pre_hooks", "post_hooks", "module_pre_hooks", "module_post_hooks"];
        var fields = names.Select(n => type.GetField(n, BindingFlags.Instance | BindingFlags.NonPublic)).OfType<FieldInfo>().ToArray();
        return fields.Length == names.Length && fields.All(f => typeof(System.Collections.ICollection).IsAssignableFrom(f.FieldType)) ? fields : null;
    }

    /// <summary>Whether <paramref name="layer"/> has a hook (or its hooks cannot be read, which counts as having one).</summary>
    public static bool Any(nn.Module<Tensor, Tensor> layer) =>
        HookFields is null || HookFields.Any(f => ((System.Collections.ICollection?)f.GetValue(layer))?.Count > 0);
}
