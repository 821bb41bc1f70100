using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Keel.Server;

/// <summary>How the API reads and writes JSON: Keel's own settings, strict about what it reads.</summary>
internal static class ApiJson
{
    /// <summary>Bodies larger than this are refused: requests carry decisions and inputs, not bulk data.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static JsonSerializerOptions Options { get; } = new(KeelJson.PayloadsAsValues)
    {
        // Responses are application/json, never embedded in HTML: quotes in inputs and results stay readable (\" not \u0022).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        // A missing "approved" must not read as false (a rejection nobody gave), nor a missing "workflow" as null.
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads the body as text; empty when there is none. A body that is not declared as UTF-8 JSON is refused (415).</summary>
    public static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }
        // Refused before reading when the length is known; a chunked body is refused once it turns out not to be empty.
        var declaredJson = IsUtf8Json(request);
        if (!declaredJson && request.ContentLength > 0)
        {
            throw NotJson(request);
        }
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var buffer = new char[16 * 1024];
        var builder = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken)) > 0)
        {
            builder.Append(buffer, 0, read);
            if (builder.Length > MaxBodyBytes)
            {
                throw TooLarge();
            }
        }
        if (!declaredJson && !string.IsNullOrWhiteSpace(builder.ToString()))
        {
            throw NotJson(request);
        }
        return builder.ToString();
    }

    /// <summary>
    /// <c>application/json</c> or <c>application/*+json</c>, in UTF-8 (no charset, or <c>utf-8</c>): a form, plain
    /// text or no content type at all is not taken for JSON, even when it would parse.
    /// </summary>
    private static bool IsUtf8Json(HttpRequest request) =>
        request.HasJsonContentType() &&
        MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) &&
        (!mediaType.Charset.HasValue || mediaType.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) ||
         mediaType.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase));

    private static ApiRequestException NotJson(HttpRequest request) =>
        new(StatusCodes.Status415UnsupportedMediaType,
            $"The request body must be JSON sent with Content-Type: application/json (or application/*+json) in UTF-8; " +
            (string.IsNullOrEmpty(request.ContentType) ? "it came without a Content-Type." : $"it came as '{request.ContentType}'."));

    private static ApiRequestException TooLarge() =>
        new(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes} bytes.");

    /// <summary>Reads the body as <typeparamref name="T"/>; <paramref name="whenEmpty"/> (or an error) when there is none.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request, string example, CancellationToken cancellationToken, T? whenEmpty = null) where T : class
    {
        var text = await ReadBodyAsync(request, cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return whenEmpty ?? throw new ApiRequestException(StatusCodes.Status400BadRequest, $"The request has no body; send JSON like {example}.");
        }
        try
        {
            return JsonSerializer.Deserialize<T>(text, Options)
                   ?? throw new ApiRequestException(StatusCodes.Status400BadRequest, $"The request body is null; send JSON like {example}.");
        }
        catch (JsonException ex)
        {
            throw new ApiRequestException(StatusCodes.Status400BadRequest, $"The request body is not what this call takes ({ex.Message}); send JSON like {example}.");
        }
    }
}
