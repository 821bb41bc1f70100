using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>How the API reads and writes JSON: Keel's own settings, strict about what it reads.</summary>
internal static class ApiJson
{
    /// <summary>Bodies larger than this are refused: requests carry decisions and inputs, not bulk data.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public static JsonSerializerOptions Options { get; } = new(KeelJson.Default)
    {
        // Responses are application/json, never embedded in HTML: quotes in inputs and results stay readable (\" not \u0022).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        // A missing "approved" must not read as false (a rejection nobody gave), nor a missing "workflow" as null.
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Reads the body as text; empty when there is none.</summary>
    public static async Task<string> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
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
        return builder.ToString();
    }

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
