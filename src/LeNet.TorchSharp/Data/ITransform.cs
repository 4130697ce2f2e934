using static TorchSharp.torch;

namespace LeNetTorchSharp.Data;

/// <summary>
/// A transform of a whole batch of images (torchvision's <c>transforms</c>, batched): it takes and
/// returns float tensors of shape N x C x H x W, applied once to a dataset at load time.
/// </summary>
public interface ITransform
{
    /// <summary>Returns the transformed images; the input is left unchanged.</summary>
    Tensor Apply(Tensor images);
}
