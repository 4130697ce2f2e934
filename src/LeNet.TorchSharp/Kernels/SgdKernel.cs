using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// The loop behind <see cref="Training.FusedSGD"/>: one parameter's SGD update (weight decay, momentum, Nesterov) in
/// one pass over its memory, with TorchSharp's <c>SGD</c> arithmetic element by element.
/// </summary>
/// <remarks>
/// Per element, the sequence of TorchSharp's <c>SGD.step()</c> (<c>grad.add(param, wd)</c>,
/// <c>buf.mul_(momentum).add_(grad, 1 - dampening)</c>, <c>grad.add(buf, momentum)</c>, <c>param.add_(grad, -lr)</c>),
/// each operation rounding as libtorch's does: a multiply, then each add with alpha as one fused multiply-add.
/// </remarks>
internal static class SgdKernel
{
    /// <summary>The coefficients of one step, as float32 as libtorch turns its scalars into for a float32 tensor.</summary>
    /// <param name="Alpha">The step's multiplier: <c>-lr</c>, or <c>lr</c> when maximizing.</param>
    /// <param name="Momentum">Momentum factor; 0 for none (no buffer).</param>
    /// <param name="GradScale">What the gradient is added to the buffer with: <c>1 - dampening</c>.</param>
    /// <param name="WeightDecay">L2 penalty; 0 for none.</param>
    /// <param name="Nesterov">Whether the step takes the gradient plus momentum times the buffer.</param>
    public readonly record struct Coefficients(float Alpha, float Momentum, float GradScale, float WeightDecay, bool Nesterov);

    /// <summary>
    /// Updates <paramref name="param"/> in place from <paramref name="grad"/>, and the momentum <paramref name="buffer"/>
    /// (empty without momentum); a <paramref name="freshBuffer"/> is set to the gradient, as PyTorch's first step does.
    /// </summary>
    public static void Update(Span<float> param, ReadOnlySpan<float> grad, Span<float> buffer, bool freshBuffer, Coefficients c)
    {
        if (grad.Length != param.Length)
            throw new ArgumentException($"grad holds {grad.Length} elements; the parameter {param.Length}.", nameof(grad));
        var momentum = c.Momentum != 0;
        if (momentum && buffer.Length != param.Length)
            throw new ArgumentException($"the momentum buffer holds {buffer.Length} elements; the parameter {param.Length}.", nameof(buffer));

        var (decay, fresh, nesterov) = (c.WeightDecay != 0, freshBuffer, c.Nesterov);
        var i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The lengths were checked above; within them the loads need no further check.
            ref var p = ref MemoryMarshal.GetReference(param);
            ref var g = ref MemoryMarshal.GetReference(grad);
            ref var b = ref momentum ? ref MemoryMarshal.GetReference(buffer) : ref p;
            var (alpha, m, scale, wd) = (Vector256.Create(c.Alpha), Vector256.Create(c.Momentum), Vector256.Create(c.GradScale), Vector256.Create(c.WeightDecay));
            for (; i <= param.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var at = (nuint)i;
                var weight = Vector256.LoadUnsafe(ref p, at);
                var step = Vector256.LoadUnsafe(ref g, at);
                if (decay) step = Vector256.FusedMultiplyAdd(weight, wd, step);
                if (momentum)
                {
                    var buf = fresh ? step : Vector256.FusedMultiplyAdd(step, scale, Vector256.LoadUnsafe(ref b, at) * m);
                    buf.StoreUnsafe(ref b, at);
                    step = nesterov ? Vector256.FusedMultiplyAdd(buf, m, step) : buf;
                }
                Vector256.FusedMultiplyAdd(step, alpha, weight).StoreUnsafe(ref p, at);
            }
        }
        for (; i < param.Length; i++)
        {
            var step = grad[i];
            if (decay) step = MathF.FusedMultiplyAdd(param[i], c.WeightDecay, step);
            if (momentum)
            {
                var buf = fresh ? step : MathF.FusedMultiplyAdd(step, c.GradScale, buffer[i] * c.Momentum);
                buffer[i] = buf;
                step = nesterov ? MathF.FusedMultiplyAdd(buf, c.Momentum, step) : buf;
            }
            param[i] = MathF.FusedMultiplyAdd(step, c.Alpha, param[i]);
        }
    }
}
