using System.Buffers;
using static TorchSharp.torch;
using static LeNetTorchSharp.Kernels.TensorMemory;

namespace LeNetTorchSharp.Kernels;

/// <summary>
/// A fully connected layer's products on tensors, through <see cref="LinearKernel"/>: what <see cref="LinearFunction"/>
/// (one layer) and <see cref="MlpFunction"/> (a whole MLP) both compute.
/// </summary>
/// <remarks>
/// A layer of <see cref="LinearFunction.MinimumWeights"/> or more is split over libtorch's threads (<see cref="LibTorchThreads"/>),
/// a smaller one runs on the calling thread, where handing the work over costs more than it saves. Rows are split in whole
/// blocks of four (the forward kernel's block height) and columns in whole 16-wide vectors (a chunk edge inside a vector
/// would leave both chunks a narrow tail); no two chunks write the same output, so the split changes no bit. Inputs and
/// gradients are contiguous float32 CPU tensors; weights and biases are read through a detached contiguous view.
/// </remarks>
internal static class LinearProducts
{
    const int Lanes = 16;

    /// <summary>A layer's sizes: batch, inputs and outputs. Read once per layer (TorchSharp's <c>shape</c> costs two
    /// native calls) and handed to each product.</summary>
    public readonly record struct Sizes(int Batch, int In, int Out)
    {
        /// <summary>The sizes of <paramref name="weight"/> (Out x In) applied to <paramref name="input"/> (N x In).</summary>
        public static Sizes Of(Tensor input, Tensor weight) => new((int)input.shape[0], (int)input.shape[1], (int)weight.shape[0]);
    }

    /// <summary><c>F.linear(input, weight, bias)</c> as dot products along the inputs: for long rows.</summary>
    public static Tensor Forward(Tensor input, Tensor weight, Tensor? bias, Sizes sizes)
    {
        var (batch, inFeatures, outFeatures) = sizes;
        using var w = weight.detach().contiguous();
        using var b = bias?.detach().contiguous();
        var output = empty([batch, outFeatures], ScalarType.Float32);
        Run((long)inFeatures * outFeatures, (batch + 3) / 4, (first, end) =>
            LinearKernel.Forward(Floats(input), Floats(w), b is null ? [] : Floats(b), Floats(output), inFeatures, outFeatures,
                first * 4, Math.Min(end * 4, batch)));
        return output;
    }

    /// <summary><c>F.linear(input, weight, bias)</c> as outer products against the weight transposed, then the bias: for
    /// short rows, where <see cref="Forward"/>'s horizontal sums outweigh its products.</summary>
    public static Tensor ForwardTransposed(Tensor input, Tensor weight, Tensor bias, Sizes sizes)
    {
        var (batch, inFeatures, outFeatures) = sizes;
        using var w = weight.detach().contiguous();
        using var b = bias.detach().contiguous();
        var output = empty([batch, outFeatures], ScalarType.Float32);
        var transposed = ArrayPool<float>.Shared.Rent(inFeatures * outFeatures);
        try
        {
            var weights = Floats(w);
            for (var o = 0; o < outFeatures; o++)
            {
                for (var p = 0; p < inFeatures; p++) transposed[p * outFeatures + o] = weights[o * inFeatures + p];
            }
            Columns(outFeatures, (long)inFeatures * outFeatures, (first, end) => LinearKernel.ForwardTransposed(Floats(input),
                transposed.AsSpan(0, inFeatures * outFeatures), Floats(output), batch, inFeatures, outFeatures, first, end));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(transposed);
        }
        var biases = Floats(b);
        var y = Floats(output);
        for (var i = 0; i < batch; i++)
        {
            var row = y.Slice(i * outFeatures, outFeatures);
            for (var j = 0; j < outFeatures; j++) row[j] += biases[j];
        }
        return output;
    }

    /// <summary><c>gradOutput.T @ input</c>: the weight's gradient.</summary>
    public static Tensor WeightGradient(Tensor gradOutput, Tensor input, Sizes sizes)
    {
        var (batch, inFeatures, outFeatures) = sizes;
        var gradWeight = empty([outFeatures, inFeatures], ScalarType.Float32);
        Columns(inFeatures, (long)inFeatures * outFeatures, (first, end) =>
            LinearKernel.WeightGradient(Floats(gradOutput), Floats(input), Floats(gradWeight), batch, inFeatures, outFeatures, first, end));
        return gradWeight;
    }

    /// <summary><c>gradOutput @ weight</c>: the input's gradient.</summary>
    public static Tensor InputGradient(Tensor gradOutput, Tensor weight, Sizes sizes)
    {
        var (batch, inFeatures, outFeatures) = sizes;
        using var w = weight.detach().contiguous();
        var gradInput = empty([batch, inFeatures], ScalarType.Float32);
        Columns(inFeatures, (long)inFeatures * outFeatures, (first, end) =>
            LinearKernel.InputGradient(Floats(gradOutput), Floats(w), Floats(gradInput), batch, inFeatures, outFeatures, first, end));
        return gradInput;
    }

    /// <summary><c>gradOutput.sum(0)</c>: the bias's gradient.</summary>
    public static Tensor BiasGradient(Tensor gradOutput, Sizes sizes)
    {
        var gradBias = empty(sizes.Out, ScalarType.Float32);
        LinearKernel.BiasGradient(Floats(gradOutput), Floats(gradBias), sizes.Batch, sizes.Out);
        return gradBias;
    }

    static void Columns(int columns, long weights, Action<int, int> body) =>
        Run(weights, (columns + Lanes - 1) / Lanes, (first, end) => body(first * Lanes, Math.Min(end * Lanes, columns)));

    static void Run(long weights, int items, Action<int, int> body)
    {
        if (weights < LinearFunction.MinimumWeights)
        {
            body(0, items);
            return;
        }
        LibTorchThreads.ForRanges(items, LibTorchThreads.ChunkCount(items), (_, first, end) => body(first, end));
    }
}
