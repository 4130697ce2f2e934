using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Serialization;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using LeNetTorchSharp.Plots;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Hardening;

/// <summary>
/// Every reader of outside bytes, fed thousands of damaged versions of a valid file (seeded: a failure names
/// its case and reproduces): each must load or throw the library's own exception, nothing else.
/// </summary>
[Category("Fuzz")]
public class FuzzTests
{
    const int Cases = 2000;

    static void Fuzz<TExpected>(string what, byte[] valid, int seed, Action<byte[]> read) where TExpected : Exception
    {
        int loaded = 0, rejected = 0;
        foreach (var (index, bytes) in Mutations.Of(valid, Cases, seed))
        {
            try
            {
                read(bytes);
                loaded++;
            }
            catch (TExpected)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{what}, seed {seed}, case {index} ({bytes.Length} bytes): {e}");
            }
        }
        TestContext.Out.WriteLine($"{what}: {Cases} damaged files, {loaded} loaded, {rejected} rejected with {typeof(TExpected).Name}");
    }

    [Test]
    public void IDX_raw()
    {
        using var temp = new TempFolder();
        var path = temp.File("images");
        Fuzz<DatasetException>("IDX raw", IdxFiles.Images(3), seed: 1, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            IdxFile.Read(path, 3);
        });
    }

    [Test]
    public void IDX_gzip()
    {
        using var temp = new TempFolder();
        var path = temp.File("labels.gz");
        Fuzz<DatasetException>("IDX gzip", IdxFiles.Gzip(IdxFiles.Labels(1, 2, 3, 4, 5, 6, 7, 8)), seed: 2, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            IdxFile.Read(path, 1);
        });
    }

    [Test]
    public void IDX_through_the_MNIST_loader()
    {
        using var temp = new TempFolder();
        IdxFiles.WriteDataset(temp.Path, trainCount: 3);
        var labels = temp.File("t10k-labels-idx1-ubyte");
        Fuzz<DatasetException>("MNIST labels", File.ReadAllBytes(labels), seed: 3, bytes =>
        {
            File.WriteAllBytes(labels, bytes);
            using var test = new MNIST(temp.Path, train: false);
        });
    }

    [Test]
    public void Safetensors_files()
    {
        using var temp = new TempFolder();
        using var model = new Mlp(inputSize: 4, hidden: [3], outputSize: 2);
        Safetensors.SaveModel(model, temp.File("w.safetensors"), new Dictionary<string, string> { ["k"] = "v" });
        var path = temp.File("fuzzed.safetensors");
        Fuzz<WeightsException>("safetensors", File.ReadAllBytes(temp.File("w.safetensors")), seed: 4, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Weights.Load(model, path);
        });
    }

    [Test]
    public void Exported_ONNX_models()
    {
        using var temp = new TempFolder();
        using var model = new Mlp(hidden: [4]);
        LeNetTorchSharp.Onnx.OnnxExporter.Export(model, temp.File("m.onnx"),
            new ModelCard(ModelKind.Mlp, "MNIST", [.. Enumerable.Range(0, 10).Select(i => i.ToString())], 0.1307, 0.3081));
        var path = temp.File("fuzzed.onnx");
        var digit = new byte[28 * 28];
        digit[400] = 255;
        Fuzz<LeNetTorchSharp.OnnxRuntime.OnnxModelException>("ONNX", File.ReadAllBytes(temp.File("m.onnx")), seed: 9, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            using var loaded = LeNetTorchSharp.OnnxRuntime.OnnxPredictor.Load(path);
            try
            {
                loaded.Probabilities(digit, 1);
            }
            catch (InvalidOperationException e) when (e.Message.Contains("output is not finite"))
            {
                // Damaged weights that make the output NaN are refused as such: an answer from garbage never comes out.
            }
        });
    }

    [Test]
    public void PyTorch_state_dicts()
    {
        using var temp = new TempFolder();
        using var model = new Mlp(inputSize: 4, hidden: [3], outputSize: 2);
        Weights.Save(model, temp.File("w.pt"));
        var original = model.state_dict().ToDictionary(p => p.Key, p => p.Value.clone());
        var path = temp.File("fuzzed.pt");
        Fuzz<WeightsException>("PyTorch .pt", File.ReadAllBytes(temp.File("w.pt")), seed: 7, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            using var loaded = new Mlp(inputSize: 4, hidden: [3], outputSize: 2);
            Weights.Load(loaded, path);
            // What loads is the file's own weights: damage is refused (CRC-32), never loaded as other numbers.
            foreach (var (name, weight) in loaded.state_dict())
                Assert.That(weight.equal(original[name]).all().item<bool>(), Is.True, name);
        });
    }

    [Test]
    public void Checkpoints()
    {
        using var data = new TempFolder();
        IdxFiles.WriteDataset(data.Path, trainCount: 20);
        using var run = new TempFolder();
        using var train = new MNIST(data.Path);
        var card = new ModelCard(ModelKind.Mlp, "MNIST", [.. MnistResources.Mnist.Classes], 0.1307, 0.3081);
        var path = run.File("fuzzed.ckpt");
        (Mlp, Trainer, TensorDataLoader) Fresh()
        {
            var model = new Mlp();
            var optimizer = optim.SGD(model.parameters(), 0.05, 0.9, nesterov: true);
            return (model, new Trainer(model, optimizer, optim.lr_scheduler.StepLR(optimizer, 1, 0.7)), new TensorDataLoader(train, 64, shuffle: true, seed: 1));
        }
        byte[] valid;
        var (firstModel, first, firstLoader) = Fresh();
        using (firstModel) using (first) using (firstLoader)
        {
            first.Fit(firstLoader, 1);
            Checkpoint.Save(path, first, firstLoader, card, new Dictionary<string, string> { ["lr"] = "0.05" });
            valid = File.ReadAllBytes(path);
        }
        Fuzz<CheckpointException>("checkpoint", valid, seed: 5, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            Checkpoint.Read(path);
            // Each load into a trainer that has not trained, as a resume does.
            var (model, trainer, loader) = Fresh();
            using (model) using (trainer) using (loader) Checkpoint.Load(path, trainer, loader);
        });
    }

    /// <summary>A "1" drawn as a PNG of 28 x <paramref name="scale"/> pixels a side in <paramref name="temp"/>.</summary>
    static string DigitPng(TempFolder temp, int scale)
    {
        var png = temp.File("digit.png");
        using var digit = zeros(28, 28);
        digit.narrow(0, 6, 16).narrow(1, 12, 4).fill_(1);
        ImagePng.Save(digit, png, scale: scale);
        return png;
    }

    [Test]
    public void Images_for_predict()
    {
        using var temp = new TempFolder();
        var png = DigitPng(temp, scale: 2);
        var path = temp.File("fuzzed.png");
        Fuzz<ImageInputException>("image", File.ReadAllBytes(png), seed: 6, bytes =>
        {
            File.WriteAllBytes(path, bytes);
            using var digit = DigitImage.Load(path);
        });
    }

    [Test]
    public void Images_cut_at_every_tenth_are_refused_as_truncated()
    {
        using var temp = new TempFolder();
        var png = DigitPng(temp, scale: 4);
        var jpeg = temp.File("digit.jpg");
        using (var bitmap = SkiaSharp.SKBitmap.Decode(png))
        using (var encoded = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 90))
            File.WriteAllBytes(jpeg, encoded.ToArray());

        foreach (var image in new[] { png, jpeg })
        {
            var whole = File.ReadAllBytes(image);
            using (var complete = DigitImage.Load(image)) Assert.That(complete.shape, Is.EqualTo(new long[] { 1, 28, 28 }));
            for (var tenth = 1; tenth <= 9; tenth++)
            {
                var cut = temp.File($"cut{tenth}{Path.GetExtension(image)}");
                File.WriteAllBytes(cut, whole[..(whole.Length * tenth / 10)]);
                var error = Assert.Throws<ImageInputException>(() => DigitImage.Load(cut).Dispose(), $"{image} cut at {tenth}/10");
                Assert.That(error!.Message, Does.StartWith($"{cut}: is truncated or damaged"), $"{image} cut at {tenth}/10");
            }
        }
    }
}
