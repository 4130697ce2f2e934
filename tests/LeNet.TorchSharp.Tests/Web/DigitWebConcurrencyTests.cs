using System.Net.Http.Headers;
using System.Text.Json;
using LeNetTorchSharp.Data;
using LeNetTorchSharp.Tests.Data;

namespace LeNetTorchSharp.Tests.Web;

/// <summary>examples/DigitWeb under concurrent requests: each gets its own answer, the one it gets alone.</summary>
[Category("Integration")]
public class DigitWebConcurrencyTests
{
    const int Requests = 200;

    [TestCase("safetensors")]
    [TestCase("onnx")]
    public async Task Two_hundred_concurrent_predictions_of_different_digits_each_get_the_answer_they_get_one_by_one(string format)
    {
        var root = RepoPaths.RequireMnist();
        var images = IdxFile.Read(Path.Combine(root, "t10k-images-idx3-ubyte"), 3);
        var pictures = Enumerable.Range(0, Requests).Select(i => Digits.Png(images.Data.AsSpan(i * 784, 784))).ToArray();
        using var temp = new TempFolder();
        var (weights, onnx) = Digits.Model(temp);
        using var server = new DigitWebProcess(format == "onnx" ? onnx : weights);

        async Task<string> Classify(byte[] picture)
        {
            var content = new ByteArrayContent(picture);
            content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var response = await server.Client.PostAsync("api/predict", content);
            var text = await response.Content.ReadAsStringAsync();
            Assert.That(response.IsSuccessStatusCode, Is.True, text);
            using var json = JsonDocument.Parse(text);
            // The answer without its timing: the probabilities, the class and the digit seen.
            return $"{json.RootElement.GetProperty("label")} {json.RootElement.GetProperty("probabilities")} {json.RootElement.GetProperty("digit")}";
        }

        var alone = new string[Requests];
        for (var i = 0; i < Requests; i++) alone[i] = await Classify(pictures[i]);
        var together = await Task.WhenAll(pictures.Select(p => Task.Run(() => Classify(p))));

        Assert.That(alone.Distinct().Count(), Is.GreaterThan(Requests * 9 / 10), "the digits differ");
        for (var i = 0; i < Requests; i++)
            Assert.That(together[i], Is.EqualTo(alone[i]), $"request {i}");
        Assert.That(server.Output, Has.Count.EqualTo(1), string.Join("\n", server.Output));
    }
}
