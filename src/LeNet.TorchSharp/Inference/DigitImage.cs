using static TorchSharp.torch;

namespace LeNetTorchSharp.Inference;

/// <summary>
/// A user's picture of a digit as the tensor the tutorial's code takes: <see cref="MnistDigit"/>'s 28x28 MNIST-style
/// image (grayscale, light ink on black, fitted into 20x20, centred by mass), as uint8 1 x 28 x 28.
/// </summary>
public static class DigitImage
{
    /// <summary>Reads and converts an image file (PNG, JPEG, or anything SkiaSharp decodes); see <see cref="MnistDigit.Load"/>.</summary>
    /// <returns>uint8, 1 x 28 x 28.</returns>
    /// <exception cref="ImageInputException">The file is missing, not a regular file, too large, unreadable, not an image,
    /// truncated or damaged, too small to hold a digit, or blank.</exception>
    public static Tensor Load(string path) => AsTensor(MnistDigit.Load(path));

    /// <summary>Converts a grayscale image (row-major, 0 = black, 255 = white) to a 28x28 MNIST-style digit; see <see cref="MnistDigit.FromGray"/>.</summary>
    /// <returns>uint8, 1 x 28 x 28.</returns>
    /// <exception cref="ArgumentException">The pixels do not fill height x width, or one is not a number from 0 to 255.</exception>
    /// <exception cref="ImageInputException">The image is smaller than <see cref="MnistDigit.MinSide"/> on a side, or blank.</exception>
    public static Tensor FromGray(float[] gray, int height, int width, string name = "image") =>
        AsTensor(MnistDigit.FromGray(gray, height, width, name));

    static Tensor AsTensor(byte[] digit) => tensor(digit, [1, MnistDigit.Size, MnistDigit.Size]);
}
