using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static TorchSharp.torch.optim.lr_scheduler;

namespace LeNetTorchSharp.Training;

/// <summary>
/// Runs the tutorial's training loop for any model and any TorchSharp optimizer: <c>zero_grad()</c>, forward,
/// loss, <c>loss.backward()</c>, <c>optimizer.step()</c>, and the scheduler's step.
/// </summary>
/// <remarks>
/// Every step runs inside its own <c>torch.NewDisposeScope()</c>, so what a step creates is freed when it ends
/// and memory stays flat from epoch to epoch. The model is used where it is: move it to its device before
/// creating the optimizer (as in PyTorch), and bring the batches to the same device. The loss stays on the
/// device and is read back only every <see cref="LogEvery"/> batches, so a GPU is not waited for at each step.
/// <code>
/// using var trainer = new Trainer(net, optim.SGD(net.parameters(), 0.01, momentum: 0.9));
/// foreach (var (x, y) in loader) trainer.Step(x, y);
/// </code>
/// </remarks>
public sealed class Trainer : IDisposable
{
    /// <summary>The model being trained.</summary>
    public Module<Tensor, Tensor> Model { get; }

    /// <summary>The optimizer over the model's parameters; the trainer disposes it.</summary>
    public optim.Optimizer Optimizer { get; }

    /// <summary>The learning-rate scheduler, stepped every <see cref="SchedulerInterval"/>; or null.</summary>
    public LRScheduler? Scheduler { get; }

    /// <summary>The loss: <c>CrossEntropyLoss()</c> on logits unless another was given.</summary>
    public Module<Tensor, Tensor, Tensor> Criterion { get; }

    /// <summary>When <see cref="Scheduler"/> is stepped: after each epoch (StepLR and most others, the default) or
    /// after each batch (OneCycleLR, CyclicLR).</summary>
    public SchedulerInterval SchedulerInterval { get; init; } = SchedulerInterval.Epoch;

    /// <summary>Batches between reads of the loss from the device (progress and the divergence check).</summary>
    public int LogEvery { get; init; } = 50;

    /// <summary>
    /// An average of the model's weights that <see cref="Step"/> updates after every optimizer step, or null; the
    /// trainer does not own it. Evaluate it inside <see cref="ExponentialMovingAverage.Applied"/>; a checkpoint saves
    /// and restores it with the trainer.
    /// </summary>
    public ExponentialMovingAverage? Average { get; init; }

    /// <summary>Optimizer steps taken so far (restored by <see cref="Checkpoint.Load"/>).</summary>
    public long StepsTaken { get; private set; }

    /// <summary>Epochs completed by <see cref="TrainEpoch"/> so far (restored by <see cref="Checkpoint.Load"/>).</summary>
    public int EpochsCompleted { get; private set; }

    /// <summary>
    /// Steps between young-generation garbage collections (<c>GC.Collect(0)</c>) that <see cref="Step"/> runs; 0 for
    /// none. TorchSharp leaves small finalizable objects behind outside any dispose scope; until the collector, which
    /// sees only their small managed part, runs, they hold native memory scattered through the heap and the process
    /// grows epoch after epoch. A collection of the young generation every 100 steps keeps it flat; it changes no result.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative number.</exception>
    public int CollectGarbageEvery
    {
        get => collectGarbageEvery;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(CollectGarbageEvery));
            collectGarbageEvery = value;
        }
    }

    readonly int collectGarbageEvery = 100;
    readonly bool ownsCriterion;
    bool disposed;

    internal bool IsDisposed => disposed;

    /// <summary>Creates a trainer; it takes ownership of <paramref name="optimizer"/> (disposed with the trainer).</summary>
    /// <param name="model">The model, already on its device.</param>
    /// <param name="optimizer">Any TorchSharp optimizer over the model's parameters, e.g. <c>optim.SGD(net.parameters(), 0.01)</c> or this library's <see cref="FusedSGD"/>.</param>
    /// <param name="scheduler">Any TorchSharp scheduler of <paramref name="optimizer"/>; see <see cref="SchedulerInterval"/>.</param>
    /// <param name="criterion">The loss of (output, target); default <c>CrossEntropyLoss()</c>.</param>
    /// <exception cref="ArgumentException">The model has no parameters.</exception>
    public Trainer(Module<Tensor, Tensor> model, optim.Optimizer optimizer, LRScheduler? scheduler = null, Module<Tensor, Tensor, Tensor>? criterion = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!model.parameters().Any())
            throw new ArgumentException($"{model.GetType().Name} has no parameters to train.", nameof(model));
        Model = model;
        Optimizer = optimizer;
        Scheduler = scheduler;
        ownsCriterion = criterion is null;
        Criterion = criterion ?? CrossEntropyLoss();
        Device = model.parameters().FirstOrDefault()?.device ?? CPU;
        optimizerSetup = Setup(optimizer, scheduled: scheduler is not null);
    }

    /// <summary>
    /// The optimizer's kind and the settings of each parameter group that stay as they were set up: what a checkpoint
    /// records, so that it is not loaded into a trainer whose optimizer was set up otherwise (a Nesterov run into plain
    /// SGD). Not the learning rate, which schedules move, nor, where a scheduler is attached, momentum and beta1, which
    /// OneCycleLR and CyclicLR cycle.
    /// </summary>
    internal IReadOnlyDictionary<string, string> OptimizerSetup => Average is null
        ? optimizerSetup
        : new Dictionary<string, string>(optimizerSetup) { ["average decay"] = Average.Decay.ToString("R", CultureInfo.InvariantCulture) };

    readonly Dictionary<string, string> optimizerSetup;

    static Dictionary<string, string> Setup(optim.Optimizer optimizer, bool scheduled)
    {
        string[] moving = scheduled ? ["momentum", "beta1", "betas"] : [];
        // FusedSGD is SGD (the same updates and state): a checkpoint of either resumes into the other.
        var type = optimizer is FusedSGD ? nameof(TorchSharp.Modules.SGD) : optimizer.GetType().Name;
        var settings = new Dictionary<string, string> { ["type"] = type };
        var index = 0;
        foreach (var group in optimizer.ParamGroups.OfType<TorchSharp.Modules.ParamGroup>())
        {
            foreach (var field in group.Options.GetType().GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance))
                if (!moving.Contains(field.Name))
                    settings[$"{index}.{field.Name}"] = Convert.ToString(field.GetValue(group.Options), CultureInfo.InvariantCulture) ?? "none";
            index++;
        }
        return settings;
    }

    /// <summary>Where the model's parameters are (when the trainer was made), so where batches must be.</summary>
    public Device Device { get; }

    /// <summary>The current learning rate of the first parameter group.</summary>
    public double LearningRate => Optimizer.ParamGroups.First().LearningRate;

    /// <summary>One optimization step on a batch: the tutorial's loop body.</summary>
    /// <param name="input">A batch on <see cref="Device"/>, in the model's input shape.</param>
    /// <param name="target">What <see cref="Criterion"/> compares the output with: int64 class indices for cross-entropy.</param>
    /// <returns>The batch's loss, detached, still on the device (read it with <c>item&lt;float&gt;()</c> when needed).</returns>
    /// <exception cref="ArgumentException">The batch is on another device, input and target counts differ, or a label is out of range.</exception>
    /// <exception cref="InvalidOperationException">The <see cref="Average"/> is applied, so the model holds averaged weights.</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public Tensor Step(Tensor input, Tensor target)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Average is { IsApplied: true })
            throw new InvalidOperationException("the trainer's average is applied to the model: train after the Applied() scope ends, on the trained weights.");
        CheckBatch(input, target);
        using var scope = NewDisposeScope();
        // optimizer.zero_grad() with PyTorch 2's set_to_none: the module's zero_grad() drops the gradients, so
        // backward writes them fresh instead of adding to zeros (TorchSharp's Optimizer.zero_grad() fills zeros).
        Model.zero_grad();
        var output = Model.call(input);
        CheckTarget(output, target, classIndices: false);
        var loss = Criterion.call(output, target);
        loss.backward();
        Optimizer.step();
        Average?.Update();
        if (SchedulerInterval == SchedulerInterval.Batch) Scheduler?.step();
        StepsTaken++;
        // Here rather than in TrainEpoch, so that a loop of the caller's own over Step is covered too.
        if (CollectGarbageEvery > 0 && StepsTaken % CollectGarbageEvery == 0) GC.Collect(0);
        return loss.detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Trains until <see cref="EpochsCompleted"/> reaches <paramref name="maxEpochs"/> (Lightning's <c>max_epochs</c>):
    /// a fresh trainer trains that many epochs, one restored from a checkpoint continues where it stopped.
    /// </summary>
    /// <param name="batches">One epoch per enumeration, e.g. a <see cref="Data.TensorDataLoader"/>.</param>
    /// <param name="maxEpochs">The total number of epochs, counting those already completed.</param>
    /// <param name="onEpoch">Called with the epoch's number and result (evaluate, log, checkpoint here).</param>
    /// <param name="onProgress">Called every <see cref="LogEvery"/> batches and at the end of each epoch.</param>
    /// <returns>The results of the epochs trained in this call.</returns>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public IReadOnlyList<EpochResult> Fit(IEnumerable<(Tensor Input, Tensor Target)> batches, int maxEpochs,
        Action<int, EpochResult>? onEpoch = null, Action<StepProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEpochs);
        ObjectDisposedException.ThrowIf(disposed, this);
        var results = new List<EpochResult>();
        while (EpochsCompleted < maxEpochs)
        {
            var result = TrainEpoch(batches, onProgress);
            results.Add(result);
            onEpoch?.Invoke(EpochsCompleted, result);
        }
        return results;
    }

    /// <summary>One pass over <paramref name="batches"/>, then the per-epoch scheduler step.</summary>
    /// <param name="batches">(input, target) pairs on <see cref="Device"/>; the trainer does not dispose them
    /// (a <see cref="Data.TensorDataLoader"/> does).</param>
    /// <param name="onProgress">Called every <see cref="LogEvery"/> batches and at the end.</param>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public EpochResult TrainEpoch(IEnumerable<(Tensor Input, Tensor Target)> batches, Action<StepProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ObjectDisposedException.ThrowIf(disposed, this);
        Model.train();
        var clock = Stopwatch.StartNew();
        int? total = batches is IReadOnlyCollection<(Tensor, Tensor)> collection ? collection.Count : null;
        using var lossSum = zeros(1, ScalarType.Float64, Device);
        long done = 0, samples = 0;
        var mean = double.NaN;

        void Report()
        {
            mean = lossSum.item<double>() / samples;
            if (!double.IsFinite(mean))
                throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                    $"Training diverged: the mean loss became {mean} by step {StepsTaken} (batch {done} of this epoch). " +
                    $"The learning rate is {LearningRate:G4} with {Optimizer.GetType().Name}: try a smaller one."));
            onProgress?.Invoke(new StepProgress(done, total, samples, mean, clock.Elapsed));
        }

        foreach (var (input, target) in batches)
        {
            var size = input.shape.Length > 0 ? input.shape[0] : 0;
            // The weight as a Scalar disposed here: an implicit conversion's Scalar is left to the finalizer, which a
            // collection started by another thread can run while libtorch is still reading it (TorchSharp PR #1434).
            using (NewDisposeScope())
            using (var weight = size.ToScalar())
                lossSum.add_(Step(input, target), alpha: weight);
            done++;
            samples += size;
            if (done % LogEvery == 0) Report();
        }
        if (done == 0) throw new ArgumentException("the batches of this epoch are empty: nothing to train on.", nameof(batches));
        if (done % LogEvery != 0) Report();
        if (SchedulerInterval == SchedulerInterval.Epoch) Scheduler?.step();
        EpochsCompleted++;
        return new EpochResult(mean, samples, clock.Elapsed, LearningRate);
    }

    /// <summary>Mean loss and accuracy of the model over labelled batches, without tracking gradients.</summary>
    /// <param name="batches">(images, int64 labels) pairs on <see cref="Device"/>, e.g. <c>new TensorDataLoader(testset, batchSize: 256)</c>.</param>
    /// <exception cref="ArgumentException">A batch is on another device, counts differ, a label is out of range, or there are no batches.</exception>
    /// <exception cref="ObjectDisposedException">The trainer was disposed.</exception>
    public Evaluation Evaluate(IEnumerable<(Tensor Input, Tensor Target)> batches)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ObjectDisposedException.ThrowIf(disposed, this);
        var clock = Stopwatch.StartNew();
        var wasTraining = Model.training;
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            using var lossSum = zeros(1, ScalarType.Float64, Device);
            using var correct = zeros(1, ScalarType.Int64, Device);
            long samples = 0;
            foreach (var (input, target) in batches)
            {
                CheckBatch(input, target);
                using var scope = NewDisposeScope();
                var logits = Model.call(input);
                CheckTarget(logits, target, classIndices: true);
                using var weight = input.shape[0].ToScalar();
                lossSum.add_(Criterion.call(logits, target), alpha: weight);
                correct.add_(logits.argmax(1).eq(target).sum());
                samples += input.shape[0];
            }
            if (samples == 0) throw new ArgumentException("there are no batches to evaluate.", nameof(batches));
            return new Evaluation(lossSum.item<double>() / samples, correct.item<long>(), samples, clock.Elapsed);
        }
        finally
        {
            Model.train(wasTraining);
        }
    }

    /// <summary>Sets the counters a checkpoint recorded and brings the scheduler to where that run left it.</summary>
    /// <remarks>Replays the scheduler's steps from its fresh state rather than jumping to the closed form, so the
    /// learning rates are those of the interrupted run to the last bit.</remarks>
    internal void Restore(long steps, int epochs)
    {
        StepsTaken = steps;
        EpochsCompleted = epochs;
        var replay = SchedulerInterval == SchedulerInterval.Batch ? steps : epochs;
        for (long i = 0; i < replay; i++) Scheduler?.step();
    }

    void CheckBatch(Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (!Devices.Same(input.device, Device))
            throw new ArgumentException($"the batch is on {input.device} but the model is on {Device}; move it with .to(trainer.Device).", nameof(input));
        if (!Devices.Same(target.device, Device))
            throw new ArgumentException($"the labels are on {target.device} but the model is on {Device}.", nameof(target));
        if (input.dim() == 0 || target.dim() == 0 || input.shape[0] != target.shape[0])
            throw new ArgumentException($"input and target must have one row per sample; received input [{string.Join(", ", input.shape)}] and target [{string.Join(", ", target.shape)}].", nameof(target));
        if (input.shape[0] == 0)
            throw new ArgumentException("the batch is empty (0 samples).", nameof(input));
    }

    /// <summary>
    /// Targets that libtorch would reject with a C++ error are refused here in the trainer's words: for
    /// cross-entropy and NLL, int64 class indices of shape [N] in [0, classes) (or, for cross-entropy, class
    /// probabilities shaped like the output); for <see cref="Evaluate"/>, which counts correct answers, class
    /// indices whatever the loss. The range is checked where it is free, on the CPU: on a GPU it would wait for
    /// the device every step, so there libtorch's own error (a device assert) remains.
    /// </summary>
    void CheckTarget(Tensor output, Tensor target, bool classIndices)
    {
        var classification = Criterion is TorchSharp.Modules.CrossEntropyLoss or TorchSharp.Modules.NLLLoss;
        if (!classIndices && !classification) return;
        if (!classIndices && Criterion is TorchSharp.Modules.CrossEntropyLoss && target.is_floating_point() && target.shape.SequenceEqual(output.shape))
            return;
        if (target.dtype != ScalarType.Int64 || target.dim() != 1)
            throw new ArgumentException(
                $"{(classIndices ? "Evaluate needs" : $"{Criterion.GetType().Name} needs")} int64 class labels of shape [N]" +
                (classIndices ? "" : $" (or class probabilities shaped like the output, [{string.Join(", ", output.shape)}])") +
                $"; received {target.dtype} [{string.Join(", ", target.shape)}] (convert labels with .to(ScalarType.Int64)).", nameof(target));
        if (output.dim() != 2 || target.device_type != DeviceType.CPU) return;
        var (min, max) = (target.min().item<long>(), target.max().item<long>());
        if (min < 0 || max >= output.shape[1])
            throw new ArgumentException($"labels must be in [0, {output.shape[1]}) for a model with {output.shape[1]} outputs; found {(min < 0 ? min : max)}.", nameof(target));
    }

    /// <summary>Releases the optimizer, and the loss module if the trainer made it (the model belongs to the caller).</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Optimizer.Dispose();
        if (ownsCriterion) Criterion.Dispose();
    }
}
