using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Keel.Server;

/// <summary>
/// A stand-alone HTTP server for the API and the dashboard over one <see cref="KeelClient"/> (what <c>keel serve</c>
/// runs). To serve from your own app instead, call <see cref="KeelApi"/>.MapKeelApi and <see cref="KeelDashboard.MapKeelDashboard"/>.
/// </summary>
public sealed class KeelServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private KeelServer(WebApplication app, IReadOnlyList<Uri> addresses)
    {
        _app = app;
        Addresses = addresses;
    }

    /// <summary>Where the server listens (the real port when the URL asked for port 0).</summary>
    public IReadOnlyList<Uri> Addresses { get; }

    /// <summary>Starts listening.</summary>
    /// <param name="client">The client every call goes through.</param>
    /// <param name="options">Where to listen, the API key, whether to serve the dashboard.</param>
    /// <param name="configureLogging">Where the server's own logs go; nothing but warnings to the console when null.</param>
    /// <param name="cancellationToken">Cancels start-up.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="IOException">The address is in use.</exception>
    public static async Task<KeelServer> StartAsync(KeelClient client, KeelServerOptions? options = null,
        Action<ILoggingBuilder>? configureLogging = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        options ??= new KeelServerOptions();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = typeof(KeelServer).Assembly.GetName().Name });
        builder.WebHost.UseUrls(options.Url);
        builder.Logging.ClearProviders();
        if (configureLogging is null)
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        }
        else
        {
            configureLogging(builder.Logging);
        }
        builder.Services.AddSingleton(client);
        builder.Services.Configure<KeelApprovalLinkOptions>(o => o.Secret = options.ApprovalLinkSecret);
        builder.Services.AddKeelHealthChecks();
        // The OpenAPI document describes the API's JSON as ApiJson writes it: payloads as values, enums as names.
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.TypeInfoResolver = KeelJson.PayloadsAsValues.TypeInfoResolver;
            foreach (var converter in KeelJson.PayloadsAsValues.Converters)
            {
                o.SerializerOptions.Converters.Add(converter);
            }
        });
        builder.Services.AddOpenApi();
        var app = builder.Build();
        app.MapKeelApi("/api", options.AllKeys);
        app.MapKeelHealthChecks();
        app.MapOpenApi(); // /openapi/v1.json
        if (options.Dashboard)
        {
            app.MapKeelDashboard();
        }
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses
                            .Select(a => new Uri(a)).ToArray() ?? [];
        return new KeelServer(app, addresses);
    }

    /// <summary>Completes when the server stops (<paramref name="cancellationToken"/> stops it).</summary>
    /// <param name="cancellationToken">Stops the server.</param>
    /// <returns>A task that completes when the server stopped.</returns>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken) => _app.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
