using LeNetTorchSharp.Kernels;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Training;

/// <summary>
/// TorchSharp's <c>optim.SGD</c> with its update done in one pass per parameter: PyTorch's
/// <c>torch.optim.SGD(..., fused=True)</c>. Same options, parameter groups, schedulers and state as <c>SGD</c>.
/// </summary>
/// <remarks>
/// <para>
/// Why: TorchSharp's <c>step()</c> runs four to five libtorch operations per parameter, each a native call, a tensor
/// or a pass over memory: 80–115 µs of a 0.85 ms MLP step on 2 cores of an AMD EPYC, where this one takes 20–30 µs.
/// Each parameter is read and written once, on the calling thread or, for models of 32,768 parameters or more,
/// on libtorch's own threads.
/// </para>
/// <para>
/// Each element goes through TorchSharp's <c>SGD</c> arithmetic in its order (weight decay, momentum buffer,
/// Nesterov, maximize, dampening), rounding as libtorch's loops do (an add with alpha is one fused multiply-add), so
/// the parameters come out with <c>SGD</c>'s bits: the tests train LeNet, the MLP and a wide model both ways with
/// every option. Where a parameter or its gradient is not a contiguous float32 CPU tensor (a GPU model, float64),
/// the whole step is <c>SGD</c>'s own. Checkpoints of the two are interchangeable.
/// </para>
/// </remarks>
public class FusedSGD : TorchSharp.Modules.SGD
{
    /// <summary>Split over libtorch's threads, a parameter is cut into chunks of at least this many elements.</summary>
    const int ElementsPerChunk = 8192;

    /// <summary>
    /// Below this many elements in all, one thread updates everything. Measured inside a training loop, not alone: on 2
    /// cores of an AMD EPYC (Zen 5) the MLP's 109,386 parameters took 21 µs on one thread in a loop of steps alone, but
    /// 105–130 µs on one and 76–79 µs on two right after a backward that wrote half of each large gradient on the other
    /// core (the harness's MLP epoch 3% less on two, five pairs; LeNet's 61,706 within noise, four pairs).
    /// </summary>
    const long ParallelFrom = 1 << 15;

    /// <summary>Steps that took the fused path, so that tests can tell it from SGD's own.</summary>
    internal static long FusedSteps;

    /// <summary>Creates the optimizer; the arguments are <c>torch.optim.SGD</c>'s.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="momentum">Momentum factor (0: none).</param>
    /// <param name="dampening">Dampening for momentum.</param>
    /// <param name="weight_decay">Weight decay (L2 penalty).</param>
    /// <param name="nesterov">Nesterov momentum (needs a momentum and no dampening).</param>
    /// <param name="maximize">Maximize the objective instead of minimizing it.</param>
    public FusedSGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : base(parameters, lr, momentum, dampening, weight_decay, nesterov, maximize)
    {
    }

    /// <summary>Creates the optimizer over parameter groups; the arguments are <c>torch.optim.SGD</c>'s.</summary>
    /// <param name="parameters">The parameter groups, each with its own options or the defaults below.</param>
    /// <param name="lr">Learning rate.</param>
    /// <param name="momentum">Momentum factor (0: none).</param>
    /// <param name="dampening">Dampening for momentum.</param>
    /// <param name="weight_decay">Weight decay (L2 penalty).</param>
    /// <param name="nesterov">Nesterov momentum (needs a momentum and no dampening).</param>
    /// <param name="maximize">Maximize the objective instead of minimizing it.</param>
    public FusedSGD(IEnumerable<TorchSharp.Modules.SGD.ParamGroup> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : base(parameters, lr, momentum, dampening, weight_decay, nesterov, maximize)
    {
    }

    /// <summary>One update of every parameter that has a gradient, as <c>SGD.step()</c>.</summary>
    /// <param name="closure">Re-evaluates the model and returns the loss; optional.</param>
    /// <returns>The closure's loss, or null.</returns>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using (enable_grad())
                loss = closure();
        }
        using (no_grad())
        using (NewDisposeScope())
        {
            var updates = Collect();
            if (updates is null)
            {
                base.step();
            }
            else
            {
                Run(updates);
                Interlocked.Increment(ref FusedSteps);
            }
        }
        return loss!;
    }

    sealed record Update(Tensor Param, Tensor Grad, Tensor? Buffer, bool FreshBuffer, SgdKernel.Coefficients Coefficients, int Length);

    /// <summary>The step's work, or null when some parameter is not one the kernel takes.</summary>
    List<Update>? Collect()
    {
        var updates = new List<Update>();
        var seen = new HashSet<IntPtr>();
        foreach (var group in _parameter_groups)
        {
            var options = (Options)group.Options;
            var momentum = options.momentum!.Value;
            var coefficients = new SgdKernel.Coefficients(
                Alpha: (float)(options.maximize!.Value ? options.LearningRate!.Value : -options.LearningRate!.Value),
                Momentum: (float)momentum,
                GradScale: (float)(1 - options.dampening!.Value),
                WeightDecay: (float)options.weight_decay!.Value,
                Nesterov: options.nesterov!.Value);
            foreach (var param in group.Parameters)
            {
                var grad = param.grad;
                if (grad is null) continue;
                // A parameter listed twice is updated twice, in order, as SGD does: not something to split over threads.
                var length = param.numel();
                if (!seen.Add(param.Handle) || length > int.MaxValue || !Fusable(param) || !Matches(grad, length)) return null;
                var buffer = momentum != 0 ? ((State)_state[param.Handle]).momentum_buffer : null;
                if (buffer is not null && !Matches(buffer, length)) return null;
                updates.Add(new Update(param, grad, buffer, FreshBuffer: momentum != 0 && buffer is null, coefficients, (int)length));
            }
        }
        // The first step with momentum: the buffers it starts, made only now that every parameter is known to be fused.
        for (var i = 0; i < updates.Count; i++)
        {
            if (!updates[i].FreshBuffer) continue;
            var buffer = empty_like(updates[i].Param).DetachFromDisposeScope();
            ((State)_state[updates[i].Param.Handle]).momentum_buffer = buffer;
            updates[i] = updates[i] with { Buffer = buffer };
        }
        return updates;
    }

    static bool Fusable(Tensor t) =>
        t.device_type == DeviceType.CPU && t.dtype == ScalarType.Float32 && !t.is_sparse && t.is_contiguous();

    // The same number of elements, both contiguous: element i of one is element i of the parameter. (libtorch has
    // already held a gradient to its parameter's shape, when backward or the grad setter wrote it.)
    static bool Matches(Tensor other, long length) => Fusable(other) && other.numel() == length;

    static void Run(List<Update> updates)
    {
        var parallel = updates.Sum(u => (long)u.Length) >= ParallelFrom;
        // In parallel, each parameter in ranges of at least ElementsPerChunk elements, at most LibTorchThreads.Chunks.
        var ranges = new List<(Update Update, int Start, int End)>();
        foreach (var update in updates)
        {
            var chunks = parallel ? LibTorchThreads.ChunkCount(update.Length / ElementsPerChunk) : 1;
            for (var chunk = 0; chunk < chunks; chunk++)
            {
                var (start, end) = LibTorchThreads.Range(update.Length, chunk, chunks);
                ranges.Add((update, start, end));
            }
        }
        void Apply(int r)
        {
            var (update, start, end) = ranges[r];
            var buffer = update.Buffer is null ? default : TensorMemory.Floats(update.Buffer)[start..end];
            SgdKernel.Update(TensorMemory.Floats(update.Param)[start..end], TensorMemory.Floats(update.Grad)[start..end],
                buffer, update.FreshBuffer, update.Coefficients);
        }
        if (parallel)
            LibTorchThreads.For(ranges.Count, Apply);
        else
            for (var r = 0; r < ranges.Count; r++) Apply(r);
    }
}
