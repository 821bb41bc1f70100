using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Keel.Server;

/// <summary>Refuses calls without the configured key: the API can cancel runs and approve actions, so it is not open by accident.</summary>
internal sealed class ApiKeyFilter(string apiKey) : IEndpointFilter
{
    public const string HeaderName = "X-Keel-Api-Key";
    private readonly byte[] _expected = Encoding.UTF8.GetBytes(apiKey);

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var presented = Presented(context.HttpContext.Request);
        if (presented is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), _expected))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return ValueTask.FromResult<object?>(Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: presented is null
                    ? $"This Keel API needs a key: send 'Authorization: Bearer KEY' or '{HeaderName}: KEY'."
                    : "The API key is wrong."));
        }
        return next(context);
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
