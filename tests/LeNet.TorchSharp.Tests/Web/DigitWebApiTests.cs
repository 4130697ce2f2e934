using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Tests.Data;
using SkiaSharp;

namespace LeNetTorchSharp.Tests.Web;

/// <summary>examples/DigitWeb's JSON API, against the program in its own process.</summary>
public class DigitWebApiTests
{
    static async Task<(HttpStatusCode Status, JsonElement Json, string Text)> Post(HttpClient client, byte[] body, string? type)
    {
        var content = new ByteArrayContent(body);
        if (type is not null) content.Headers.ContentType = new MediaTypeHeaderValue(type);
        using var response = await client.PostAsync("api/predict", content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), text);
    }

    [TestCase("safetensors")]
    [TestCase("onnx")]
    public async Task A_drawn_digit_gets_the_librarys_answer_the_digit_it_saw_and_the_time_taken(string format)
    {
        using var temp = new TempFolder();
        var (weights, onnx) = Digits.Model(temp);
        using var server = new DigitWebProcess(format == "onnx" ? onnx : weights);
        var picture = Digits.DrawnSeven();

        var (status, json, text) = await Post(server.Client, picture, "image/png");

        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), text);
        using var library = Predictor.Load(weights);
        var expected = library.Probabilities(TorchSharp.torch.tensor(MnistDigit.FromImage(picture), [1, 28, 28]));
        var probabilities = json.GetProperty("probabilities").EnumerateArray().Select(p => p.GetSingle()).ToArray();
        Assert.That(probabilities, Is.EqualTo(expected).Within(1e-5));
        var best = Array.IndexOf(expected, expected.Max());
        Assert.That(json.GetProperty("label").GetInt32(), Is.EqualTo(best));
        Assert.That(json.GetProperty("prediction").GetString(), Is.EqualTo(best.ToString()));
        Assert.That(json.GetProperty("model").GetString(), Is.EqualTo("LeNet"));
        Assert.That(json.GetProperty("runtime").GetString(), Is.EqualTo(format == "onnx" ? "ONNX Runtime" : "libtorch"));
        Assert.That(json.GetProperty("digit").EnumerateArray().Select(d => (byte)d.GetInt32()), Is.EqualTo(MnistDigit.FromImage(picture)));
        Assert.That(json.GetProperty("milliseconds").GetDouble(), Is.GreaterThan(0));

        var (jpegStatus, jpeg, _) = await Post(server.Client, Digits.DrawnSeven(SKEncodedImageFormat.Jpeg), "image/jpeg");
        Assert.That(jpegStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(jpeg.GetProperty("label").GetInt32(), Is.EqualTo(best));

        using var description = JsonDocument.Parse(await server.Client.GetStringAsync("api/model"));
        var model = description.RootElement;
        Assert.That(model.GetProperty("architecture").GetString(), Is.EqualTo("LeNet"));
        Assert.That(model.GetProperty("parameters").GetInt64(), Is.EqualTo(61_706));
        Assert.That(model.GetProperty("classes").GetArrayLength(), Is.EqualTo(10));
        Assert.That(model.GetProperty("input").EnumerateArray().Select(d => d.GetInt32()), Is.EqualTo(new[] { 1, 32, 32 }));
        Assert.That(model.GetProperty("normalization").GetProperty("mean").GetDouble(), Is.EqualTo(0.1307));
        Assert.That(model.GetProperty("testAccuracy").ValueKind, Is.EqualTo(JsonValueKind.Null));
        Assert.That(model.GetProperty("maxUploadBytes").GetInt32(), Is.EqualTo(2 << 20));
        Assert.That(server.Output, Has.Count.EqualTo(1), string.Join("\n", server.Output));
    }

    [Test]
    public async Task Bad_requests_get_a_4xx_with_one_line_of_JSON_and_the_server_logs_nothing()
    {
        using var temp = new TempFolder();
        using var server = new DigitWebProcess(Digits.Model(temp).Onnx);
        var png = Digits.DrawnSeven();
        using var white = SKSurface.Create(new SKImageInfo(280, 280));
        white.Canvas.Clear(SKColors.White);
        using var blankImage = white.Snapshot();
        var blank = blankImage.Encode(SKEncodedImageFormat.Png, 100).ToArray();

        foreach (var (body, type, status, error) in new (byte[], string?, HttpStatusCode, string)[]
        {
            (png, "text/plain", HttpStatusCode.UnsupportedMediaType, "expected a body of type image/png or image/jpeg; found 'text/plain'"),
            (png, null, HttpStatusCode.UnsupportedMediaType, "expected a body of type image/png or image/jpeg; found no Content-Type"),
            ("hello"u8.ToArray(), "image/png", HttpStatusCode.BadRequest, "not an image: expected a PNG or JPEG file, found 5 bytes of something else"),
            (png[..(png.Length / 2)], "image/png", HttpStatusCode.BadRequest, $"is truncated or damaged: the Png data ends early or is corrupt ({png.Length / 2} bytes)"),
            (new byte[(2 << 20) + 1], "image/png", HttpStatusCode.RequestEntityTooLarge, $"the picture is {(2 << 20) + 1} bytes; expected at most {2 << 20} (2 MiB)"),
            (blank, "image/png", HttpStatusCode.UnprocessableEntity, "the picture is blank: draw a digit (no ink stands out from the background)"),
            ([], "image/png", HttpStatusCode.BadRequest, "the body is empty; expected a PNG or JPEG picture"),
        })
        {
            var (actual, json, text) = await Post(server.Client, body, type);
            Assert.That(actual, Is.EqualTo(status), text);
            Assert.That(json.GetProperty("error").GetString(), Is.EqualTo(error));
            Assert.That(text, Does.Not.Contain("\n"));
        }

        // A chunked upload says no length: it is cut off at the limit all the same.
        var chunked = new StreamContent(new MemoryStream(new byte[3 << 20]));
        chunked.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        var request = new HttpRequestMessage(HttpMethod.Post, "api/predict") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using (var response = await server.Client.SendAsync(request))
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That(await response.Content.ReadAsStringAsync(), Is.EqualTo($$"""{"error":"the picture is over {{2 << 20}} bytes (2 MiB), the most this server takes"}"""));
        }

        using (var ok = await server.Client.PostAsync("api/predict", new ByteArrayContent(png) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }))
            Assert.That(ok.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the server still answers");
        Assert.That(server.Output, Has.Count.EqualTo(1), "only the ready line:\n" + string.Join("\n", server.Output));
    }

    [Test]
    public void Without_a_model_it_says_in_one_line_how_to_get_one()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DigitWeb.dll"));
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.That(process.ExitCode, Is.EqualTo(2));
        Assert.That(error.TrimEnd(), Is.EqualTo("error: --model is required: train one with `dotnet run -c Release --project examples/TrainMnist` and pass its runs/<run>/model.safetensors (or any weights predict takes, or an .onnx)."));
    }
}
