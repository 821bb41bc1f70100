namespace Keel.Server;

/// <summary>A request the API refuses before it reaches Keel (bad body, bad query); turned into a problem response.</summary>
internal sealed class ApiRequestException(int statusCode, string message) : Exception(message)
{
    public int StatusCode { get; } = statusCode;
}
