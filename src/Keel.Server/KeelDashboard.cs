using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Keel.Server;

/// <summary>The web dashboard: runs, what each ran and decided, what failed and why, what waits for a person, and the
/// buttons to act on it. Static files from this assembly that call the API mapped by <see cref="KeelApi"/>.MapKeelApi.</summary>
public static class KeelDashboard
{
    private static readonly (string File, string ContentType)[] Files =
    [
        ("index.html", "text/html; charset=utf-8"),
        ("dashboard.js", "text/javascript; charset=utf-8"),
        ("words.js", "text/javascript; charset=utf-8"),
        ("lists.js", "text/javascript; charset=utf-8"),
        ("run.js", "text/javascript; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("dashboard.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Maps the dashboard at <paramref name="path"/>.</summary>
    /// <param name="endpoints">The app.</param>
    /// <param name="path">Where the dashboard lives, <c>/</c> by default; it calls the API at <c>api/</c> below this path
    /// (map both with the same prefix: <c>MapKeelDashboard("/keel/")</c> with <c>MapKeelApi("/keel/api")</c>).</param>
    /// <returns>The route group.</returns>
    public static RouteGroupBuilder MapKeelDashboard(this IEndpointRouteBuilder endpoints, string path = "/")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var group = endpoints.MapGroup(path.TrimEnd('/'));
        foreach (var (file, contentType) in Files)
        {
            var content = Load(file);
            IResult Serve(HttpResponse response)
            {
                // The page changes with the server version only; a stale script after an upgrade would call a changed API.
                response.Headers.CacheControl = "no-cache";
                response.Headers.XContentTypeOptions = "nosniff";
                return Results.Bytes(content, contentType);
            }
            group.MapGet(file == "index.html" ? "/" : "/" + file, Serve).ExcludeFromDescription();
        }
        return group;
    }

    private static byte[] Load(string file)
    {
        using var stream = typeof(KeelDashboard).Assembly.GetManifestResourceStream("Keel.Server.Dashboard." + file)
                           ?? throw new InvalidOperationException($"The dashboard file {file} is missing from {typeof(KeelDashboard).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
