using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>
/// Refuses calls without one of the configured keys (401), or with a key whose role does not allow the call (403); the
/// API can cancel runs and approve actions, so it is not open by accident. The key that was shown is kept for the call:
/// its name is journaled as who acted (<see cref="KeelApi.Who"/>).
/// </summary>
internal sealed class ApiKeyFilter(IReadOnlyList<KeelApiKey> keys) : IEndpointFilter
{
    public const string HeaderName = "X-Keel-Api-Key";
    private readonly (KeelApiKey Key, byte[] Secret)[] _keys = [.. keys.Select(k => (k, Encoding.UTF8.GetBytes(k.Key)))];

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (http.GetEndpoint()?.Metadata.GetMetadata<KeyNotRequired>() is not null)
        {
            return next(context);
        }
        var presented = Presented(http.Request);
        var key = presented is null ? null : Match(Encoding.UTF8.GetBytes(presented));
        if (key is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return ValueTask.FromResult<object?>(Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: presented is null
                    ? $"This Keel API needs a key: send 'Authorization: Bearer KEY' or '{HeaderName}: KEY'."
                    : "The API key is wrong."));
        }
        var required = http.GetEndpoint()?.Metadata.GetMetadata<RequiredRole>()?.Role ?? KeelApiRole.Operator;
        if (key.Role < required)
        {
            return ValueTask.FromResult<object?>(Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: $"The key of '{key.Name}' is a {key.Role.ToString().ToLowerInvariant()} key: this call needs an " +
                        $"{required.ToString().ToLowerInvariant()}'s. Nothing was changed.",
                extensions: new Dictionary<string, object?> { ["error"] = "Forbidden", ["role"] = key.Role.ToString(), ["requiredRole"] = required.ToString() }));
        }
        http.Items[typeof(KeelApiKey)] = key;
        return next(context);
    }

    /// <summary>The key whose secret this is, comparing every key in constant time (which matched is not timed).</summary>
    private KeelApiKey? Match(byte[] presented)
    {
        KeelApiKey? found = null;
        foreach (var (key, secret) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(presented, secret))
            {
                found ??= key;
            }
        }
        return found;
    }

    private static string? Presented(HttpRequest request)
    {
        if (request.Headers[HeaderName].ToString() is { Length: > 0 } key)
        {
            return key;
        }
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization["Bearer ".Length..].Trim() : null;
    }
}
