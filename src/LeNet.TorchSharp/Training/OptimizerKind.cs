namespace LeNetTorchSharp.Training;

/// <summary>The update rules the tutorial names.</summary>
public enum OptimizerKind
{
    /// <summary><c>optim.SGD</c>, with optional momentum and Nesterov momentum.</summary>
    Sgd,

    /// <summary><c>optim.Adam</c>.</summary>
    Adam,

    /// <summary><c>optim.RMSprop</c>.</summary>
    RMSprop,
}
