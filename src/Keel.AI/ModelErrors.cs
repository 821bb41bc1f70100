using System.ClientModel;
using System.Globalization;
using System.Net;

namespace Keel.AI;

/// <summary>Turns a provider's failure into what Keel's retry loop understands.</summary>
internal static class ModelErrors
{
    /// <summary>The exception to throw instead of <paramref name="exception"/>, or null to let the policy retry it as it is.</summary>
    public static Exception? Classify(Exception exception, bool hasFallback)
    {
        var (status, retryAfter) = exception switch
        {
            ClientResultException c => (c.Status, RetryAfter(c)),
            HttpRequestException { StatusCode: { } code } => ((int)code, (TimeSpan?)null),
            _ => (0, null),
        };
        if (status == (int)HttpStatusCode.TooManyRequests)
        {
            return new RetryableStepException(
                $"The model provider is rate limiting (429){(retryAfter is { } wait ? $"; it asked to retry after {wait.TotalSeconds:0.###} s" : "")}: {exception.Message}",
                retryAfter, exception);
        }
        if (!hasFallback && status is 400 or 401 or 403 or 404 or 422)
        {
            return new TerminalStepException($"The model provider refused the request ({status}); another attempt would fail the same way: {exception.Message}", exception);
        }
        return null;
    }

    private static TimeSpan? RetryAfter(ClientResultException exception)
    {
        var headers = exception.GetRawResponse()?.Headers;
        if (headers is null)
        {
            return null;
        }
        if (headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }
        if (headers.TryGetValue("Retry-After", out var value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }
            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                var wait = at - TimeProvider.System.GetUtcNow();
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }
        return null;
    }
}
