using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.TensorMemory;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// A ReLU MLP's layers, <c>fc1</c> to the last, as one autograd function on <see cref="LinearKernel"/>: forward, and every
/// weight's and bias's gradient (and the input's when asked for) in one backward, libtorch's values to float rounding.
/// </summary>
/// <remarks>
/// Why: with fc1's products on the kernel, most of an MLP step was per-operation cost: each of libtorch's fifteen-odd
/// operations for the small layers and their ReLUs (dispatch, autograd bookkeeping, a hand-off to libtorch's threads)
/// costs more than its arithmetic, and a TorchSharp autograd function per layer costs more again (bench/history.md,
/// 2026-12-01 night). One function for the whole stack pays that once; its products are <see cref="LinearProducts"/>,
/// a layer's as <see cref="LinearFunction"/> computes them.
/// Under <c>create_graph</c> the gradients are libtorch's, built on a recomputed forward, so that they are
/// differentiable. <see cref="Models.Mlp.UseLinearKernel"/> turns it off for one model.
/// </remarks>
internal sealed class MlpFunction : autograd.SingleTensorFunction<MlpFunction>
{
    const int Lanes = 16;

    public override string Name => "MlpKernelBackward";

    /// <summary>Calls that took the fused path, so that tests can tell it from the layer-by-layer one.</summary>
    internal static long Calls;

    /// <summary>Whether the fused path takes <paramref name="layers"/> on <paramref name="input"/>: an x64 CPU with AVX-512
    /// whose libtorch runs on libgomp; an N x In float32 CPU input (N at least 1); float32 CPU layers, each with a bias,
    /// each taking the last one's outputs; no hooks on any layer. The caller has checked the activation is ReLU.</summary>
    public static bool Handles(Tensor input, IReadOnlyList<Linear> layers)
    {
        if (!LinearKernel.IsAccelerated || !LibTorchThreads.Available || layers.Count == 0) return false;
        if (input.device_type != DeviceType.CPU || input.dtype != ScalarType.Float32 || input.dim() != 2) return false;
        var shape = input.shape;
        if (shape[0] < 1 || shape[1] < 1) return false;
        long width = shape[1], batch = shape[0];
        foreach (var layer in layers)
        {
            if (ModuleHooks.Any(layer) || layer.bias is null) return false;
            Tensor w = layer.weight!, b = layer.bias;
            if (w.device_type != DeviceType.CPU || w.dtype != ScalarType.Float32 || b.device_type != DeviceType.CPU || b.dtype != ScalarType.Float32)
                return false;
            var weightShape = w.shape;
            if (weightShape.Length != 2 || weightShape[1] != width || weightShape[0] < 1) return false;
            width = weightShape[0];
            if (Math.Max(w.numel(), Math.Max(batch * weightShape[1], batch * width)) > int.MaxValue / sizeof(float)) return false;
        }
        return true;
    }

    /// <summary>The network's logits: <c>fc_L(relu(… relu(fc1(input)) …))</c>.</summary>
    public static Tensor Apply(Tensor input, IReadOnlyList<Linear> layers)
    {
        Interlocked.Increment(ref Calls);
        var vars = new object[1 + 2 * layers.Count];
        vars[0] = input;
        var tracked = input.requires_grad;
        for (var i = 0; i < layers.Count; i++)
        {
            vars[1 + 2 * i] = layers[i].weight!;
            vars[2 + 2 * i] = layers[i].bias!;
            tracked |= layers[i].weight!.requires_grad || layers[i].bias!.requires_grad;
        }
        // Without a gradient to track, skip the autograd function and what it keeps for backward.
        if (!is_grad_enabled() || !tracked)
        {
            using var x = input.contiguous();
            var activations = Forward(x, vars);
            foreach (var hidden in activations.Take(activations.Count - 1)) hidden.Dispose();
            return activations[^1];
        }
        return apply(vars);
    }

    public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
    {
        var input = ((Tensor)vars[0]).contiguous();
        var activations = Forward(input, vars);
        // The input, every weight and bias (a recomputed forward under create_graph needs them as they are), and the
        // hidden activations after their ReLUs (backward's masks and the next products' inputs).
        var saved = new List<Tensor> { input };
        for (var i = 1; i < vars.Length; i++) saved.Add((Tensor)vars[i]);
        saved.AddRange(activations.Take(activations.Count - 1));
        ctx.save_for_backward(saved);
        ctx.save_data("inputGrad", ((Tensor)vars[0]).requires_grad);
        return activations[^1];
    }

    public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor gradOutput)
    {
        var saved = ctx.get_saved_variables();
        var inputGrad = (bool)ctx.get_data("inputGrad");
        var layers = saved.Count / 3; // the input, a weight and a bias per layer, and layers - 1 activations
        var input = saved[0];
        Tensor Weight(int i) => saved[1 + 2 * i];
        Tensor Bias(int i) => saved[2 + 2 * i];
        Tensor Activation(int i) => i == 0 ? input : saved[2 * layers + i];
        var grads = new Tensor[1 + 2 * layers];
        if (is_grad_enabled())
        {
            // Under create_graph the gradients must themselves be differentiable: libtorch's operations on a recomputed
            // forward build them, through the saved weights to the parameters.
            var h = input;
            for (var i = 0; i < layers; i++)
            {
                h = nn.functional.linear(h, Weight(i), Bias(i));
                if (i < layers - 1) h = nn.functional.relu(h);
            }
            var wrt = new List<Tensor>();
            if (inputGrad) wrt.Add(input);
            for (var i = 0; i < layers; i++) { wrt.Add(Weight(i)); wrt.Add(Bias(i)); }
            var found = autograd.grad([h], wrt, [gradOutput], retain_graph: true, create_graph: true);
            var k = 0;
            if (inputGrad) grads[0] = found[k++];
            for (var i = 0; i < layers; i++) { grads[1 + 2 * i] = found[k++]; grads[2 + 2 * i] = found[k++]; }
            return [.. grads];
        }

        var g = gradOutput.contiguous();
        for (var i = layers - 1; i >= 0; i--)
        {
            var below = Activation(i);
            var sizes = LinearProducts.Sizes.Of(below, Weight(i));
            grads[1 + 2 * i] = LinearProducts.WeightGradient(g, below, sizes);
            grads[2 + 2 * i] = LinearProducts.BiasGradient(g, sizes);
            if (i == 0 && !inputGrad) break;
            var gradBelow = LinearProducts.InputGradient(g, Weight(i), sizes);
            // Through the ReLU below (none below the first layer): zero where its output was not positive, as libtorch's
            // threshold_backward does.
            if (i > 0) ReluBackward(Floats(below), Floats(gradBelow));
            g.Dispose();
            g = gradBelow;
            if (i == 0) grads[0] = gradBelow;
        }
        if (!inputGrad) g.Dispose();
        return [.. grads];
    }

    // Every layer's output, the hidden ones after their ReLU; the last is the logits. Long rows as dot products, short
    // ones (fewer than 256 inputs) as outer products against the weight transposed.
    static List<Tensor> Forward(Tensor input, object[] vars)
    {
        var layers = (vars.Length - 1) / 2;
        var activations = new List<Tensor>(layers);
        var h = input;
        for (var i = 0; i < layers; i++)
        {
            Tensor weight = (Tensor)vars[1 + 2 * i], bias = (Tensor)vars[2 + 2 * i];
            var sizes = LinearProducts.Sizes.Of(h, weight);
            var output = sizes.In >= 256
                ? LinearProducts.Forward(h, weight, bias, sizes)
                : LinearProducts.ForwardTransposed(h, weight, bias, sizes);
            if (i < layers - 1) Relu(Floats(output));
            activations.Add(output);
            h = output;
        }
        return activations;
    }

    // max(x, 0) in place; NaN stays NaN, as in F.relu.
    static void Relu(Span<float> values)
    {
        ref var v = ref MemoryMarshal.GetReference(values);
        var i = 0;
        for (; i + Lanes <= values.Length; i += Lanes)
        {
            var x = Vector512.LoadUnsafe(ref v, (nuint)i);
            Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), Vector512<float>.Zero, x).StoreUnsafe(ref v, (nuint)i);
        }
        for (; i < values.Length; i++) if (values[i] < 0) values[i] = 0;
    }

    // grad = 0 where the ReLU's output is not positive.
    static void ReluBackward(ReadOnlySpan<float> output, Span<float> grad)
    {
        ref var o = ref MemoryMarshal.GetReference(output);
        ref var g = ref MemoryMarshal.GetReference(grad);
        var i = 0;
        for (; i + Lanes <= grad.Length; i += Lanes)
        {
            var mask = Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref o, (nuint)i), Vector512<float>.Zero);
            Vector512.ConditionalSelect(mask, Vector512<float>.Zero, Vector512.LoadUnsafe(ref g, (nuint)i)).StoreUnsafe(ref g, (nuint)i);
        }
        for (; i < grad.Length; i++) if (output[i] <= 0) grad[i] = 0;
    }
}
