using static TorchSharp.torch;
using static TorchSharp.torch.optim;
using TorchSharp.Modules;

namespace LeNetTorchSharp.Training;

/// <summary>Which optimizer to build and with what settings; one line switches the update rule.</summary>
/// <param name="Kind">SGD, Adam or RMSprop.</param>
/// <param name="LearningRate">Step size (<c>lr</c>).</param>
/// <param name="Momentum">SGD and RMSprop momentum (ignored by Adam).</param>
/// <param name="Nesterov">Nesterov momentum for SGD (needs <paramref name="Momentum"/> &gt; 0).</param>
/// <param name="WeightDecay">L2 penalty.</param>
public sealed record OptimizerSettings(
    OptimizerKind Kind = OptimizerKind.Sgd,
    double LearningRate = 0.01,
    double Momentum = 0.0,
    bool Nesterov = false,
    double WeightDecay = 0.0)
{
    /// <summary>Builds the optimizer over <paramref name="parameters"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is negative or not finite, or Nesterov is asked for without momentum.</exception>
    public Optimizer Create(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Validate();
        return Kind switch
        {
            OptimizerKind.Sgd => SGD(parameters, LearningRate, Momentum, weight_decay: WeightDecay, nesterov: Nesterov),
            OptimizerKind.Adam => Adam(parameters, LearningRate, weight_decay: WeightDecay),
            OptimizerKind.RMSprop => RMSProp(parameters, LearningRate, momentum: Momentum, weight_decay: WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown optimizer."),
        };
    }

    void Validate()
    {
        if (!double.IsFinite(LearningRate) || LearningRate < 0)
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, $"the learning rate must be a finite number ≥ 0; found {LearningRate}.");
        if (!double.IsFinite(Momentum) || Momentum < 0)
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, $"momentum must be a finite number ≥ 0; found {Momentum}.");
        if (!double.IsFinite(WeightDecay) || WeightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, $"weight decay must be a finite number ≥ 0; found {WeightDecay}.");
        if (Nesterov && (Kind != OptimizerKind.Sgd || Momentum <= 0))
            throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, "Nesterov momentum needs the SGD optimizer with momentum > 0.");
    }
}
