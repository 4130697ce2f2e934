using LeNetTorchSharp.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace LeNetTorchSharp.Training;

/// <summary>
/// An exponential moving average of a model's parameters, PyTorch's <c>AveragedModel</c> with
/// <c>get_ema_multi_avg_fn(decay)</c>: evaluated in place of the weights, it passes a given accuracy epochs earlier,
/// because it averages away the noise of the last steps at a high learning rate.
/// </summary>
/// <remarks>
/// The average is one tensor per parameter rather than a copy of the module, which TorchSharp cannot clone for any
/// module. The first <see cref="Update"/> copies the parameters; each later one moves the average towards them,
/// <c>average = decay · average + (1 − decay) · parameter</c> (PyTorch's <c>lerp_</c> with weight <c>1 − decay</c>).
/// Buffers are not averaged (PyTorch's default, <c>use_buffers=False</c>); LeNet and the MLP have none. A
/// <see cref="Trainer"/> given one as its <see cref="Trainer.Average"/> updates it after every step, and
/// <see cref="Checkpoint"/> saves and restores it with the trainer.
/// <code>
/// using var average = new ExponentialMovingAverage(net, decay: 0.99);
/// using var trainer = new Trainer(net, optim.SGD(net.parameters(), 0.01, momentum: 0.9)) { Average = average };
/// foreach (var (x, y) in loader) trainer.Step(x, y);
/// using (average.Applied()) Console.WriteLine(trainer.Evaluate(testLoader).Accuracy);
/// </code>
/// </remarks>
public sealed class ExponentialMovingAverage : IDisposable
{
    // Weight: 1 − decay as a tensor of the parameter's type and device (TorchSharp's lerp_ takes no Scalar weight).
    readonly (string Name, Tensor Average, Tensor Weight)[] entries;
    readonly Module model;
    Tensor[]? applied;
    bool disposed;

    /// <summary>Starts an average of <paramref name="model"/>'s parameters, where they are (move the model to its device first).</summary>
    /// <param name="model">The model whose parameters are averaged; the average does not own it.</param>
    /// <param name="decay">The weight the average so far keeps at each update, in [0, 1): 0.99 averages over about the last 100 steps.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="decay"/> is not in [0, 1).</exception>
    /// <exception cref="ArgumentException">The model has no parameters.</exception>
    public ExponentialMovingAverage(Module model, double decay)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!(decay >= 0 && decay < 1))
            throw new ArgumentOutOfRangeException(nameof(decay), decay, $"expected a decay in [0, 1) (the share of the average kept at each update); found {decay}.");
        Decay = decay;
        this.model = model;
        using (no_grad())
            entries = [.. model.named_parameters().Select(p => (p.name, p.parameter.detach().clone(), tensor(1 - decay, p.parameter.dtype, p.parameter.device)))];
        if (entries.Length == 0)
            throw new ArgumentException($"{model.GetType().Name} has no parameters to average.", nameof(model));
    }

    /// <summary>The share of the average kept at each update.</summary>
    public double Decay { get; }

    /// <summary>Updates so far (PyTorch's <c>n_averaged</c>); 0 until the first, which copies the parameters.</summary>
    public long Updates { get; private set; }

    /// <summary>Whether the averaged weights are in the model now, inside an <see cref="Applied"/> scope.</summary>
    public bool IsApplied => applied is not null;

    /// <summary>Moves the average towards the model's current parameters (after an optimizer step).</summary>
    /// <exception cref="InvalidOperationException">The averaged weights are applied: the model holds the average, not the trained weights.</exception>
    /// <exception cref="ObjectDisposedException">The average was disposed.</exception>
    public void Update()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (IsApplied)
            throw new InvalidOperationException("the averaged weights are applied to the model; update the average after the Applied() scope ends.");
        var parameters = Parameters();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        for (var i = 0; i < entries.Length; i++)
        {
            if (Updates == 0) entries[i].Average.copy_(parameters[i]);
            else entries[i].Average.lerp_(parameters[i], entries[i].Weight);
        }
        Updates++;
    }

    /// <summary>
    /// The model's parameters now, checked against the average's: looked up at every use rather than kept, because
    /// <c>model.to(…)</c> replaces a TorchSharp module's parameter objects, and an average of the old ones would go
    /// on silently averaging weights no longer trained.
    /// </summary>
    Parameter[] Parameters()
    {
        var parameters = model.named_parameters().ToArray();
        if (parameters.Length != entries.Length)
            throw new InvalidOperationException($"the model has {parameters.Length} parameters; the average was made for {entries.Length}.");
        for (var i = 0; i < entries.Length; i++)
        {
            var (name, parameter) = parameters[i];
            var average = entries[i].Average;
            if (name != entries[i].Name || parameter.dtype != average.dtype || parameter.device_type != average.device_type || parameter.device_index != average.device_index || !parameter.shape.SequenceEqual(average.shape))
                throw new InvalidOperationException(
                    $"the model's parameter '{name}' is {parameter.dtype} {StateDict.Shape(parameter.shape)} on {parameter.device}; the average was made for " +
                    $"'{entries[i].Name}', {average.dtype} {StateDict.Shape(average.shape)} on {average.device}: create the average after moving or converting the model.");
        }
        return [.. parameters.Select(p => p.parameter)];
    }

    /// <summary>
    /// Puts the averaged weights into the model until the returned scope is disposed, which puts the trained weights
    /// back bit for bit: evaluate, predict or save the average inside it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Nothing has been averaged yet, or the average is applied already.</exception>
    /// <exception cref="ObjectDisposedException">The average was disposed.</exception>
    public IDisposable Applied()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Updates == 0)
            throw new InvalidOperationException("nothing has been averaged yet: call Update() after a step (a Trainer with this Average does) before applying the average.");
        if (IsApplied) throw new InvalidOperationException("the average is applied already.");
        var parameters = Parameters();
        using var noGrad = no_grad();
        applied = [.. parameters.Select(p => p.detach().clone())];
        for (var i = 0; i < entries.Length; i++) parameters[i].copy_(entries[i].Average);
        return new Scope(this);
    }

    void Unapply()
    {
        if (applied is null) return;
        var parameters = model.parameters().ToArray();
        using (no_grad())
            for (var i = 0; i < entries.Length; i++)
                parameters[i].copy_(applied[i]);
        foreach (var trained in applied) trained.Dispose();
        applied = null;
    }

    /// <summary>The averaged tensors under the parameters' <c>state_dict</c> keys (owned by the average), for a checkpoint.</summary>
    internal IEnumerable<KeyValuePair<string, Tensor>> Tensors => entries.Select(e => KeyValuePair.Create(e.Name, e.Average));

    /// <summary>Restores a saved average: the same keys and shapes as this one's, and its update count.</summary>
    /// <exception cref="InvalidDataException">A key is missing or extra, or a shape differs; the message names it.</exception>
    internal void Restore(IReadOnlyList<KeyValuePair<string, Tensor>> saved, long updates)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var byName = saved.ToDictionary(t => t.Key, t => t.Value);
        if (byName.Keys.Except(entries.Select(e => e.Name)).FirstOrDefault() is { } extra)
            throw new InvalidDataException($"the saved average has '{extra}', which the model has no parameter of");
        using var noGrad = no_grad();
        foreach (var (name, average, _) in entries)
        {
            if (!byName.TryGetValue(name, out var tensor)) throw new InvalidDataException($"the saved average has no '{name}'");
            if (!tensor.shape.SequenceEqual(average.shape))
                throw new InvalidDataException($"the saved average's '{name}' is {StateDict.Shape(tensor.shape)}, the model's {StateDict.Shape(average.shape)}");
            average.copy_(tensor);
        }
        Updates = updates;
    }

    /// <summary>Puts the trained weights back if they are applied, then frees the averaged tensors.</summary>
    public void Dispose()
    {
        if (disposed) return;
        Unapply();
        disposed = true;
        foreach (var (_, average, weight) in entries)
        {
            average.Dispose();
            weight.Dispose();
        }
    }

    sealed class Scope(ExponentialMovingAverage owner) : IDisposable
    {
        public void Dispose() => owner.Unapply();
    }
}
