using System.Diagnostics;
using System.Globalization;
using LeNetTorchSharp.Data;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;
using static TorchSharp.torch.optim.lr_scheduler;

namespace LeNetTorchSharp.Training;

/// <summary>
/// Owns a model, its optimizer, the loss and the device, and runs the tutorial's training loop:
/// <c>zero_grad()</c>, forward, loss, <c>loss.backward()</c>, <c>optimizer.step()</c>.
/// </summary>
/// <remarks>
/// Every step runs inside its own <c>torch.NewDisposeScope()</c>, so the tensors a step creates are
/// freed when it ends and memory stays flat from epoch to epoch. The loss stays on the device and is
/// read back only every <see cref="LogEvery"/> batches: on a GPU, reading it each step would wait for
/// the device every step.
/// </remarks>
public sealed class Trainer : IDisposable
{
    /// <summary>The model being trained (moved to <see cref="Device"/>).</summary>
    public Module<Tensor, Tensor> Model { get; }

    /// <summary>The optimizer over the model's parameters.</summary>
    public optim.Optimizer Optimizer { get; }

    /// <summary>The loss: cross-entropy on logits unless given.</summary>
    public Module<Tensor, Tensor, Tensor> Criterion { get; }

    /// <summary>Where the model and the batches live.</summary>
    public Device Device { get; }

    /// <summary>The optimizer's settings.</summary>
    public OptimizerSettings OptimizerSettings { get; }

    /// <summary>Batches between reads of the loss from the device (progress and the NaN check).</summary>
    public int LogEvery { get; init; } = 50;

    /// <summary>Optimizer steps taken so far (restored by <see cref="Checkpoint.Load"/>).</summary>
    public long StepsTaken { get; internal set; }

    /// <summary>
    /// Steps between young-generation garbage collections. A step leaves small finalizable objects behind
    /// that TorchSharp creates outside any dispose scope (about 40 a step for the MLP, each holding a little
    /// native memory). Until the collector runs they sit scattered through the native heap, so freed batch
    /// memory cannot be reused and the heap grows: the MLP's RSS climbed 300 MB an epoch, to 1.1 GB, because
    /// the collector, which sees only the small managed objects, first ran in the fourth epoch. A gen-0
    /// collection every 100 steps keeps RSS flat (+100 MB over the dataset, measured) for about 1.5 ms per
    /// collection: 6 ms of a 0.3-0.5 s MLP epoch. Every 50 steps kept 40 MB less but cost twice the pauses.
    /// </summary>
    internal const int CollectEvery = 100;

    readonly LrSchedule schedule;
    LRScheduler? scheduler;

    /// <summary>Creates a trainer.</summary>
    /// <param name="model">The model; it is moved to <paramref name="device"/>.</param>
    /// <param name="optimizer">Update rule and settings; default plain SGD, lr 0.01 (the tutorial's).</param>
    /// <param name="device">Default CPU.</param>
    /// <param name="criterion">Default <c>CrossEntropyLoss()</c>.</param>
    /// <param name="schedule">Learning-rate schedule; default constant. Built when training starts (see <see cref="Fit"/>).</param>
    public Trainer(Module<Tensor, Tensor> model, OptimizerSettings? optimizer = null, Device? device = null,
        Module<Tensor, Tensor, Tensor>? criterion = null, LrSchedule? schedule = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Device = device ?? CPU;
        Model = model.to(Device);
        OptimizerSettings = optimizer ?? new OptimizerSettings();
        Optimizer = OptimizerSettings.Create(Model.parameters());
        Criterion = criterion ?? CrossEntropyLoss();
        this.schedule = schedule ?? new LrSchedule();
    }

    /// <summary>The current learning rate of the first parameter group.</summary>
    public double LearningRate => Optimizer.ParamGroups.First().LearningRate;

    /// <summary>
    /// One optimization step on a batch: the tutorial's loop body.
    /// </summary>
    /// <param name="input">A batch on <see cref="Device"/>, in the model's input shape.</param>
    /// <param name="target">Labels on <see cref="Device"/>: int64, one per sample.</param>
    /// <returns>The batch's loss, detached, still on the device (read it with <c>item&lt;float&gt;()</c> when needed).</returns>
    /// <exception cref="ArgumentException">The batch is on another device, or input and target counts differ.</exception>
    public Tensor Step(Tensor input, Tensor target)
    {
        CheckBatch(input, target);
        using var scope = NewDisposeScope();
        // optimizer.zero_grad(), with PyTorch 2's set_to_none: TorchSharp's Optimizer.zero_grad() fills the
        // gradients with zeros, the module's zero_grad() drops them, so backward writes instead of adding
        // to a zeroed buffer (about 4% of a LeNet step on the CPU; same weights).
        Model.zero_grad();
        var output = Model.forward(input);
        CheckLabels(output, target);
        var loss = Criterion.forward(output, target);
        loss.backward();
        Optimizer.step();
        if (schedule.PerBatch) scheduler?.step();
        StepsTaken++;
        // Here rather than in TrainEpoch, so that a loop of the caller's own over Step is covered too.
        if (StepsTaken % CollectEvery == 0) GC.Collect(0);
        return loss.detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Trains up to epoch <paramref name="epochs"/> (counting from 1), starting at <paramref name="firstEpoch"/>
    /// (after a resume), building the learning-rate schedule for the whole run, and calls
    /// <paramref name="onEpoch"/> after each epoch.
    /// </summary>
    /// <returns>The results of the epochs trained in this call.</returns>
    public IReadOnlyList<EpochResult> Fit(TensorDataLoader loader, int epochs, Action<int, EpochResult>? onEpoch = null,
        Action<StepProgress>? onProgress = null, int firstEpoch = 1)
    {
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epochs);
        ArgumentOutOfRangeException.ThrowIfLessThan(firstEpoch, 1);
        if (scheduler is null)
        {
            // A restored optimizer state carries the learning rate it stopped at; schedules start from the
            // configured rate and are replayed below to where the run stood.
            foreach (var group in Optimizer.ParamGroups) group.LearningRate = OptimizerSettings.LearningRate;
            scheduler = schedule.Create(Optimizer, OptimizerSettings.LearningRate, epochs, loader.BatchCount);
            // After a resume, bring the schedule to where the interrupted run left it.
            var done = schedule.PerBatch ? Math.Min(StepsTaken, epochs * loader.BatchCount - 1) : firstEpoch - 1;
            for (long i = 0; i < done; i++) scheduler?.step();
        }
        var results = new List<EpochResult>();
        for (var epoch = firstEpoch; epoch <= epochs; epoch++)
        {
            var result = TrainEpoch(loader, onProgress);
            results.Add(result);
            onEpoch?.Invoke(epoch, result);
        }
        return results;
    }

    /// <summary>One pass over the loader's batches.</summary>
    /// <exception cref="TrainingDivergedException">The loss became NaN or infinite.</exception>
    public EpochResult TrainEpoch(TensorDataLoader loader, Action<StepProgress>? onProgress = null)
    {
        ArgumentNullException.ThrowIfNull(loader);
        Model.train();
        var clock = Stopwatch.StartNew();
        using var lossSum = zeros(1, ScalarType.Float64, Device);
        long batches = 0, samples = 0;
        var mean = double.NaN;
        foreach (var batch in loader.Epoch())
        {
            var size = batch.Size;
            using (batch)
            using (NewDisposeScope())
            {
                var loss = Step(batch.Images, batch.Labels);
                lossSum.add_(loss, alpha: size);
            }
            batches++;
            samples += size;
            if (batches % LogEvery == 0 || batches == loader.BatchCount)
            {
                mean = lossSum.item<double>() / samples;
                if (!double.IsFinite(mean))
                    throw new TrainingDivergedException(string.Create(CultureInfo.InvariantCulture,
                        $"Training diverged: the mean loss became {mean} by step {StepsTaken} (batch {batches} of {loader.BatchCount} in this epoch). " +
                        $"The learning rate is {LearningRate:G4} with {OptimizerSettings.Kind}: try a smaller one (--lr)."));
                onProgress?.Invoke(new StepProgress(batches, loader.BatchCount, samples, mean, clock.Elapsed));
            }
        }
        if (!schedule.PerBatch) scheduler?.step();
        return new EpochResult(mean, samples, clock.Elapsed, LearningRate);
    }

    /// <summary>Mean loss and accuracy of the model on a labelled set, without tracking gradients.</summary>
    /// <param name="images">Inputs on any device (moved in batches).</param>
    /// <param name="labels">int64 labels, one per input.</param>
    /// <param name="batchSize">Samples per forward pass.</param>
    public Evaluation Evaluate(Tensor images, Tensor labels, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(labels);
        if (images.dim() == 0 || labels.dim() != 1 || images.shape[0] != labels.shape[0])
            throw new ArgumentException($"images and labels must have the same count; received images [{string.Join(", ", images.shape)}] and labels [{string.Join(", ", labels.shape)}].", nameof(labels));
        return Evaluate((start, length) => images.narrow(0, start, length), labels, batchSize);
    }

    /// <summary>Evaluates on a whole dataset, converting its images a batch at a time.</summary>
    public Evaluation Evaluate(MNIST dataset, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return Evaluate(dataset.Images, dataset.Labels, batchSize);
    }

    Evaluation Evaluate(Func<long, long, Tensor> imagesRange, Tensor labels, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var clock = Stopwatch.StartNew();
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            using var lossSum = zeros(1, ScalarType.Float64, Device);
            using var correct = zeros(1, ScalarType.Int64, Device);
            var n = labels.shape[0];
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var length = Math.Min(batchSize, n - start);
                var x = imagesRange(start, length).to(Device);
                var y = labels.narrow(0, start, length).to(Device);
                var logits = Model.forward(x);
                lossSum.add_(Criterion.forward(logits, y), alpha: length);
                correct.add_(logits.argmax(1).eq(y).sum());
            }
            return new Evaluation(lossSum.item<double>() / n, correct.item<long>(), n, clock.Elapsed);
        }
        finally
        {
            Model.train();
        }
    }

    /// <summary>Class probabilities (softmax of the logits) for every image of <paramref name="dataset"/>: N x C, on the CPU.</summary>
    public Tensor Predict(MNIST dataset, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        Model.eval();
        try
        {
            using var noGrad = no_grad();
            var chunks = new List<Tensor>();
            for (long start = 0; start < dataset.Count; start += batchSize)
            {
                using var scope = NewDisposeScope();
                var x = dataset.Images(start, Math.Min(batchSize, dataset.Count - start)).to(Device);
                chunks.Add(nn.functional.softmax(Model.forward(x), 1).cpu().MoveToOuterDisposeScope());
            }
            var all = cat(chunks, 0);
            foreach (var chunk in chunks) chunk.Dispose();
            return all;
        }
        finally
        {
            Model.train();
        }
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
    /// Class-index targets must be int64 in [0, classes). Checked where it is free: on the CPU. On a GPU the
    /// check would wait for the device every step; there libtorch's own error (or a device assert) remains.
    /// </summary>
    void CheckLabels(Tensor output, Tensor target)
    {
        if (target.dtype != ScalarType.Int64 || output.dim() != 2 || target.dim() != 1) return;
        if (target.device_type != DeviceType.CPU) return;
        var (min, max) = (target.min().item<long>(), target.max().item<long>());
        if (min < 0 || max >= output.shape[1])
            throw new ArgumentException($"labels must be in [0, {output.shape[1]}) for a model with {output.shape[1]} outputs; found {(min < 0 ? min : max)}.", nameof(target));
    }

    /// <summary>Releases the optimizer and the loss module (the model belongs to the caller).</summary>
    public void Dispose()
    {
        Optimizer.Dispose();
        Criterion.Dispose();
    }
}
