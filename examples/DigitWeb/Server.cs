using System.Globalization;
using LeNetTorchSharp.Inference;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace DigitWeb;

/// <summary>
/// The web app: the draw-a-digit page (wwwroot, every asset served from here) and the JSON API over one shared
/// <see cref="DigitModel"/>. Client errors are answered with a status and a one-line JSON error, never logged.
/// </summary>
public static class Server
{
    /// <summary>The largest picture <c>POST /api/predict</c> takes: 2 MiB, far above a canvas's PNG (a few KB) or a phone photo's JPEG.</summary>
    public const int MaxUploadBytes = 2 << 20;

    static readonly string[] ImageTypes = ["image/png", "image/jpeg"];

    /// <summary>Builds the app for <paramref name="model"/>, listening on <paramref name="url"/> (port 0: a free one).</summary>
    public static WebApplication Build(DigitModel model, string url)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory, WebRootPath = "wwwroot" });
        // The console shows the server's own warnings and errors; a client's bad request is answered, not logged.
        builder.Logging.ClearProviders().AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls(url);
        // Kestrel's own limit sits above the API's, so that an upload over the API's limit gets its JSON answer.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = 2L * MaxUploadBytes);
        var app = builder.Build();
        app.Lifetime.ApplicationStopped.Register(model.Dispose);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.MapGet("/api/model", () => Results.Json(Describe(model)));
        app.MapPost("/api/predict", (HttpRequest request) => Predict(model, request));
        return app;
    }

    /// <summary>Where a started app listens, e.g. <c>http://127.0.0.1:5000</c>.</summary>
    public static string Address(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    static object Describe(DigitModel model)
    {
        var card = model.Card;
        return new
        {
            architecture = card.Model.ToString(),
            runtime = model.Runtime,
            file = Path.GetFileName(model.File),
            parameters = model.Parameters,
            dataset = card.Dataset,
            classes = card.Classes,
            input = LeNetTorchSharp.Serialization.ModelCard.InputShape(card.Model),
            normalization = new { mean = card.Mean, std = card.Std },
            testAccuracy = card.TestAccuracy,
            maxUploadBytes = MaxUploadBytes,
        };
    }

    static async Task<IResult> Predict(DigitModel model, HttpRequest request)
    {
        var type = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        if (type is null || !ImageTypes.Contains(type))
            return Error(StatusCodes.Status415UnsupportedMediaType, $"expected a body of type {string.Join(" or ", ImageTypes)}; found {(type is null ? "no Content-Type" : $"'{type}'")}");
        if (request.ContentLength > MaxUploadBytes)
            return Error(StatusCodes.Status413PayloadTooLarge, $"the picture is {request.ContentLength} bytes; expected at most {MaxUploadBytes} ({MaxUploadBytes >> 20} MiB)");
        byte[] body;
        try
        {
            body = await ReadAtMost(request.Body, MaxUploadBytes, request.HttpContext.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return Error(StatusCodes.Status413PayloadTooLarge, $"the picture is over {MaxUploadBytes} bytes ({MaxUploadBytes >> 20} MiB), the most this server takes");
        }
        if (body.Length == 0) return Error(StatusCodes.Status400BadRequest, "the body is empty; expected a PNG or JPEG picture");

        try
        {
            var (digit, probabilities, milliseconds) = await Task.Run(() => model.Classify(body));
            var best = Array.IndexOf(probabilities, probabilities.Max());
            return Results.Json(new
            {
                model = model.Card.Model.ToString(),
                runtime = model.Runtime,
                prediction = model.Card.Classes[best],
                label = best,
                probability = probabilities[best],
                probabilities,
                classes = model.Card.Classes,
                digit = digit.Select(b => (int)b),
                milliseconds = Math.Round(milliseconds, 2),
            });
        }
        catch (ImageInputException e) when (e.IsBlank)
        {
            return Error(StatusCodes.Status422UnprocessableEntity, "the picture is blank: draw a digit (no ink stands out from the background)");
        }
        catch (ImageInputException e)
        {
            return Error(StatusCodes.Status400BadRequest, e.Problem);
        }
    }

    /// <summary>The body, refusing (with <see cref="InvalidDataException"/>) one longer than <paramref name="limit"/>
    /// whatever its Content-Length said (a chunked upload has none).</summary>
    static async Task<byte[]> ReadAtMost(Stream body, int limit, CancellationToken cancel)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(chunk, cancel)) > 0)
        {
            if (buffer.Length + read > limit) throw new InvalidDataException();
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }

    static IResult Error(int status, string message) =>
        Results.Json(new { error = message }, statusCode: status);

    /// <summary>The line the program prints when it is ready.</summary>
    internal static string Ready(DigitModel model, string address) => string.Create(CultureInfo.InvariantCulture,
        $"Serving {model.Card.Model} ({model.Runtime}, {Path.GetFileName(model.File)}) at {address}/  (Ctrl-C stops)");
}
