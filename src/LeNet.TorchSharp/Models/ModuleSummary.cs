using System.Globalization;
using System.Text;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Models;

/// <summary>
/// PyTorch's <c>print(model)</c> for TorchSharp modules, whose own <c>ToString()</c> shows only a name.
/// </summary>
/// <remarks>
/// Follows <c>torch.nn.Module.__repr__</c>: a leaf prints <c>Name(extra)</c>; a module with children prints
/// one <c>(name): child</c> line per child, each nested level indented two spaces. The extra text of the
/// standard layers (Conv, Linear, pooling, activations, Softmax, Flatten, Dropout) is PyTorch's, field
/// for field. TorchSharp keeps pooling sizes as arrays, so a size whose entries are all equal prints as
/// one number, as PyTorch prints a size given as an int (<c>MaxPool2d(2)</c> → <c>kernel_size=2</c>).
/// Any other module prints its class name, with its children if it has any.
/// </remarks>
public static class ModuleSummary
{
    /// <summary>The module tree as PyTorch prints it, e.g. <c>LeNet(\n  (conv1): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))\n  …\n)</c>.</summary>
    public static string Summary(this nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var extraLines = ExtraRepr(module) is { Length: > 0 } extra ? extra.Split('\n') : [];
        var childLines = module.named_children()
            .Select(c => $"({c.name}): {AddIndent(c.module.Summary(), 2)}")
            .ToList();

        var text = new StringBuilder(TypeName(module)).Append('(');
        if (extraLines.Length == 1 && childLines.Count == 0)
            text.Append(extraLines[0]);
        else if (extraLines.Length + childLines.Count > 0)
            text.Append("\n  ").AppendJoin("\n  ", extraLines.Concat(childLines)).Append('\n');
        return text.Append(')').ToString();
    }

    /// <summary>How many scalar parameters the module has, in all and with <c>requires_grad</c>.</summary>
    public static ParameterCount CountParameters(this nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        long total = 0, trainable = 0;
        foreach (var p in module.parameters())
        {
            total += p.numel();
            if (p.requires_grad) trainable += p.numel();
        }
        return new ParameterCount(total, trainable);
    }

    static string TypeName(nn.Module module)
    {
        var name = module.GetType().Name;
        var tick = name.IndexOf('`');
        return tick < 0 ? name : name[..tick];
    }

    static string ExtraRepr(nn.Module module) => module switch
    {
        Convolution c => ConvRepr(c),
        Linear l => $"in_features={l.in_features}, out_features={l.out_features}, bias={Py(l.bias is not null)}",
        MaxPool1d or MaxPool2d or MaxPool3d => PoolRepr(module),
        AvgPool2d a => $"kernel_size={Size(a.kernel_size)}, stride={Size(a.stride ?? a.kernel_size)}, padding={Size(a.padding ?? [0])}",
        ReLU r => r.inplace ? "inplace=True" : "",
        Softmax s => $"dim={s.dim}",
        LogSoftmax s => $"dim={s.dim}",
        Flatten f => $"start_dim={f.start_dim}, end_dim={f.end_dim}",
        Dropout d => $"p={Py(d.p)}, inplace={Py(d.inplace)}",
        Dropout2d d => $"p={Py(d.p)}, inplace={Py(d.inplace)}",
        _ => "",
    };

    static string ConvRepr(Convolution c)
    {
        var s = new StringBuilder($"{c.in_channels}, {c.out_channels}, kernel_size={Tuple(c.kernel_size)}, stride={Tuple(c.stride)}");
        if (c.padding_type is { } mode)
            s.Append($", padding={mode.ToString().ToLowerInvariant()}");
        else if (c.padding is { } padding && padding.Any(p => p != 0))
            s.Append($", padding={Tuple(padding)}");
        if (c.dilation.Any(d => d != 1)) s.Append($", dilation={Tuple(c.dilation)}");
        if (c.output_padding is { } op && op.Any(p => p != 0)) s.Append($", output_padding={Tuple(op)}");
        if (c.groups != 1) s.Append($", groups={c.groups}");
        if (c.bias is null) s.Append(", bias=False");
        if (c.padding_mode != PaddingModes.Zeros) s.Append($", padding_mode={c.padding_mode.ToString().ToLowerInvariant()}");
        return s.ToString();
    }

    static string PoolRepr(nn.Module pool) => pool switch
    {
        MaxPool1d p => PoolRepr([p.kernel_size], p.stride is { } s ? [s] : null, [p.padding ?? 0], [p.dilation ?? 1], p.ceil_mode),
        MaxPool2d p => PoolRepr(p.kernel_size, p.stride, p.padding, p.dilation, p.ceil_mode),
        MaxPool3d p => PoolRepr(p.kernel_size, p.stride, p.padding, p.dilation, p.ceil_mode),
        _ => "",
    };

    static string PoolRepr(long[] kernel, long[]? stride, long[]? padding, long[]? dilation, bool ceil) =>
        $"kernel_size={Size(kernel)}, stride={Size(stride ?? kernel)}, padding={Size(padding ?? [0])}, " +
        $"dilation={Size(dilation ?? [1])}, ceil_mode={Py(ceil)}";

    /// <summary>Python's tuple repr: (5, 5), or (5,) for one element.</summary>
    static string Tuple(long[] values) =>
        values.Length == 1 ? $"({values[0]},)" : "(" + string.Join(", ", values) + ")";

    static string Size(long[] values) =>
        values.Length > 0 && values.All(v => v == values[0]) ? values[0].ToString(CultureInfo.InvariantCulture) : Tuple(values);

    static string Py(bool value) => value ? "True" : "False";

    /// <summary>Python's float repr: 0.5, 1.0, 1e-05.</summary>
    internal static string Py(double value)
    {
        if (double.IsInteger(value) && Math.Abs(value) < 1e16) return value.ToString("F1", CultureInfo.InvariantCulture);
        return value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
    }

    static string AddIndent(string text, int spaces) =>
        text.Replace("\n", "\n" + new string(' ', spaces));
}
