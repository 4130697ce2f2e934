using LeNetTorchSharp.Data;
using LeNetTorchSharp.Inference;
using LeNetTorchSharp.Models;
using LeNetTorchSharp.Tests.Data;
using LeNetTorchSharp.Training;
using Microsoft.Playwright;
using static TorchSharp.torch;

namespace LeNetTorchSharp.Tests.Web;

/// <summary>
/// The draw-a-digit page in headless Chromium (Debian's, never a downloaded one): MNIST test digits traced with real
/// mouse strokes, the answer shown on the page, and the 28x28 preview checked against the digit the drawing makes.
/// </summary>
[Category("Browser")]
public class DigitWebBrowserTests
{
    const string Chromium = "/usr/bin/chromium";

    [Test]
    public async Task Digits_drawn_with_the_mouse_are_read_and_the_page_shows_the_answer_and_what_the_model_saw()
    {
        if (!File.Exists(Chromium)) RepoPaths.Missing("chromium is missing: apt-get install chromium");
        var root = RepoPaths.RequireMnist();
        using var temp = new TempFolder();
        var accuracy = 0.0;
        var (_, onnx) = Digits.Model(temp, net => accuracy = Train(net, root));
        var images = IdxFile.Read(Path.Combine(root, "t10k-images-idx3-ubyte"), 3);
        var labels = IdxFile.Read(Path.Combine(root, "t10k-labels-idx1-ubyte"), 1).Data;
        using var server = new DigitWebProcess(onnx);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // Chromium looks up Google's hosts at start; this machine, and a test, need none of them.
            Args = ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 820, Height = 640 } });
        await page.GotoAsync(server.Address.ToString());
        await Assertions.Expect(page.Locator("#model")).ToHaveTextAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"LeNet (61,706 parameters) on ONNX Runtime · {accuracy * 100:F2}% on MNIST's test set"));
        Assert.That(await page.Locator("body").GetAttributeAsync("data-state"), Is.EqualTo("empty"));

        // The first test image of each of three digits, each traced stroke by stroke as a person would draw it.
        foreach (var label in new byte[] { 7, 2, 0 })
        {
            var index = Array.IndexOf(labels, label);
            await page.ClickAsync("#clear");
            await Trace(page, images.Data.AsSpan(index * 784, 784).ToArray());
            await page.WaitForSelectorAsync("body[data-state=answered]");

            Assert.That(await page.Locator("#top").TextContentAsync(), Is.EqualTo(label.ToString()), $"test image {index}");
            Assert.That(await page.Locator("#confidence").TextContentAsync(), Does.Match(@"^\d+\.\d% sure · \d+(\.\d+)? ms$"));
            Assert.That(await page.Locator("#bars li.best .name").TextContentAsync(), Is.EqualTo(label.ToString()));

            // The preview is the digit the server made of exactly this drawing.
            var drawing = Convert.FromBase64String((await page.EvaluateAsync<string>("document.getElementById('pad').toDataURL('image/png')")).Split(',')[1]);
            var preview = await page.EvaluateAsync<int[]>(
                "Array.from(document.getElementById('seen').getContext('2d').getImageData(0, 0, 28, 28).data).filter((_, i) => i % 4 === 0)");
            Assert.That(preview.Select(v => (byte)v), Is.EqualTo(MnistDigit.FromImage(drawing)), $"the preview of test image {index}");
            await Screenshot(page, $"digitweb-{label}.png");
        }

        // Escape clears, as the button does.
        await page.Keyboard.PressAsync("Escape");
        Assert.That(await page.Locator("#top").TextContentAsync(), Is.EqualTo("?"));

        // At a phone's width the drawing area fits the screen and the answer comes below it.
        var phone = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 }, HasTouch = true });
        await phone.GotoAsync(server.Address.ToString());
        var pad = (await phone.Locator("#pad").BoundingBoxAsync())!;
        var answer = (await phone.Locator("#top").BoundingBoxAsync())!;
        Assert.That(pad.X + pad.Width, Is.LessThanOrEqualTo(390));
        Assert.That(answer.Y, Is.GreaterThan(pad.Y + pad.Height));
        await Trace(phone, images.Data.AsSpan(Array.IndexOf(labels, (byte)3) * 784, 784).ToArray());
        await phone.WaitForSelectorAsync("body[data-state=answered]");
        await Screenshot(phone, "digitweb-phone.png");
        Assert.That(server.Output, Has.Count.EqualTo(1), string.Join("\n", server.Output));
    }

    /// <summary>Draws a 28x28 digit on the page's canvas with the mouse: each row's run of ink one stroke, scaled to the canvas.</summary>
    static async Task Trace(IPage page, byte[] digit)
    {
        var box = (await page.Locator("#pad").BoundingBoxAsync())!;
        var scale = box.Width / 28;
        for (var row = 0; row < 28; row++)
            for (var column = 0; column < 28; column++)
            {
                if (digit[row * 28 + column] < 128) continue;
                var end = column;
                while (end + 1 < 28 && digit[row * 28 + end + 1] >= 128) end++;
                var y = box.Y + (row + 0.5f) * scale;
                await page.Mouse.MoveAsync(box.X + (column + 0.5f) * scale, y);
                await page.Mouse.DownAsync();
                await page.Mouse.MoveAsync(box.X + (end + 0.5f) * scale, y, new MouseMoveOptions { Steps = 2 });
                await page.Mouse.UpAsync();
                column = end;
            }
    }

    /// <summary>A short training on real MNIST, so that the page's answers are a trained model's; returns its test accuracy.</summary>
    static double Train(LeNet net, string root)
    {
        using var train = new MNIST(root, train: true, transform: Normalize.MnistStatistics, imageSize: 32);
        using var test = new MNIST(root, train: false, transform: Normalize.MnistStatistics, imageSize: 32);
        using var trainer = new Trainer(net, optim.SGD(net.parameters(), 0.05, momentum: 0.9));
        using var loader = new TensorDataLoader(train, batchSize: 64, shuffle: true, seed: 1);
        foreach (var (x, y) in loader.Take(400)) trainer.Step(x, y);
        using var testLoader = new TensorDataLoader(test, batchSize: 256);
        var accuracy = trainer.Evaluate(testLoader).Accuracy;
        net.eval();
        return accuracy;
    }

    /// <summary>Saves the page as it looks, attached to the test's results (and under the test binaries' screenshots/).</summary>
    static async Task Screenshot(IPage page, string name)
    {
        var path = Path.Combine(TestContext.CurrentContext.WorkDirectory, "screenshots", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path);
    }
}
