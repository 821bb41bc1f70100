using Microsoft.Playwright;

namespace Keel.Server.Tests;

/// <summary>
/// Headless Chromium driven by Playwright, one per test class: the dashboard tests open pages of a real server in it.
/// test.sh installs /usr/bin/chromium when it is missing (Playwright cannot download browsers here).
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"No browser at {Chromium}: the dashboard tests need one. Run ./test.sh (it installs it), or `apt-get install -y chromium`.");
        }
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }

    /// <summary>A new page (its own session storage) at <paramref name="fragment"/> of the server, optionally phone-sized.</summary>
    internal async Task<IPage> OpenAsync(ServerHarness h, string fragment = "", int? width = null)
    {
        var context = await _browser!.NewContextAsync(width is { } w ? new() { ViewportSize = new() { Width = w, Height = 844 } } : new());
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        await page.GotoAsync(new Uri(h.BaseAddress, "/" + fragment).ToString());
        return page;
    }
}
