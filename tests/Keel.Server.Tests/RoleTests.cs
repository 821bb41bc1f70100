namespace Keel.Server.Tests;

/// <summary>API keys with a name and a role (<see cref="KeelApiKey"/>), over real HTTP: a viewer reads, an approver also
/// decides, an operator does everything; what a key does is journaled with its name, whatever a body says.</summary>
public class RoleTests
{
    private const string Viewer = "viewer-key-0123456789abcdef", Approver = "approver-key-0123456789abcdef", Operator = "operator-key-0123456789abcdef";

    private static Task<(int Status, System.Text.Json.JsonElement Body)> AsAsync(ServerHarness h, string key, HttpMethod method, string path, string? body = null) =>
        h.SendAsync(method, path, body, r => r.Headers.Authorization = new("Bearer", key));

    [Theory]
    [InlineData(StoreKind.Sqlite)]
    [InlineData(StoreKind.Postgres)]
    public async Task EachRole_DoesWhatItMay_IsRefusedTheRest_AndIsJournaledByTheKeysName(StoreKind kind)
    {
        await using var h = await ServerHarness.StartAsync(kind, TestWorkflows.Register, apiKeys:
        [
            new KeelApiKey("vic", KeelApiRole.Viewer, Viewer), new KeelApiKey("ana", KeelApiRole.Approver, Approver),
            new KeelApiKey("ops", KeelApiRole.Operator, Operator),
        ]);

        // A viewer reads, and can change nothing.
        var (forbidden, problem) = await AsAsync(h, Viewer, HttpMethod.Post, "api/runs", """{"workflow":"refund","input":{"customer":"ada","amount":40},"runId":"r-1"}""");
        Assert.Equal(403, forbidden);
        Assert.Contains("'vic' is a viewer key", problem.Str("detail"), StringComparison.Ordinal);
        Assert.Equal("Operator", problem.Str("requiredRole"));
        Assert.Equal(404, (await AsAsync(h, Viewer, HttpMethod.Get, "api/runs/r-1")).Status); // nothing was started

        // An operator starts; an approver decides (as "ana", though the body says otherwise) but may not cancel.
        Assert.Equal(201, (await AsAsync(h, Operator, HttpMethod.Post, "api/runs", """{"workflow":"refund","input":{"customer":"ada","amount":40},"runId":"r-1"}""")).Status);
        await EventuallyPendingAsync(h);
        Assert.Equal(403, (await AsAsync(h, Viewer, HttpMethod.Post, "api/runs/r-1/approvals", """{"approved":true}""")).Status);
        Assert.Equal(403, (await AsAsync(h, Approver, HttpMethod.Post, "api/runs/r-1/cancel", """{"reason":"no"}""")).Status);
        var (decided, _) = await AsAsync(h, Approver, HttpMethod.Post, "api/runs/r-1/approvals", """{"approved":true,"by":"mallory","comment":"ok"}""");
        Assert.Equal(202, decided);
        var (_, run) = await AsAsync(h, Viewer, HttpMethod.Get, "api/runs/r-1/wait?timeout=20");
        Assert.Equal("Completed", run.Str("status"));
        var (_, history) = await AsAsync(h, Viewer, HttpMethod.Get, "api/runs/r-1/history");
        var approval = history.GetProperty("decisions").Items().Single(d => d.Str("kind") == "Approval");
        Assert.Equal("ana", approval.Str("by")); // the key's name, not the body's "mallory"

        // An operator's actions are journaled with its name too.
        Assert.Equal(201, (await AsAsync(h, Operator, HttpMethod.Post, "api/runs", """{"workflow":"wait-for-go","input":"x","runId":"w-1"}""")).Status);
        Assert.Equal(202, (await AsAsync(h, Operator, HttpMethod.Post, "api/runs/w-1/cancel", """{"reason":"not needed","by":"someone-else"}""")).Status);
        var (_, cancelled) = await AsAsync(h, Viewer, HttpMethod.Get, "api/runs/w-1/history");
        Assert.Equal("ops", cancelled.GetProperty("decisions").Items().Single(d => d.Str("name") == "cancel").Str("by"));

        Assert.Equal(401, (await AsAsync(h, "not-a-key-0123456789abcdef", HttpMethod.Get, "api/runs")).Status);
    }

    [Fact]
    public void Keys_ThatCannotBeTold_Apart_OrAreTooShort_AreRefused()
    {
        var shortKey = Assert.Throws<ArgumentException>(() => new KeelApiKey("ana", KeelApiRole.Approver, "short").Validate());
        Assert.Contains("16 characters", shortKey.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Operator, new KeelApiKey("ops", KeelApiRole.Operator, Operator).ToString(), StringComparison.Ordinal); // no secret in logs
    }

    private static async Task EventuallyPendingAsync(ServerHarness h)
    {
        var deadline = Environment.TickCount64 + 20_000;
        while ((await AsAsync(h, Viewer, HttpMethod.Get, "api/approvals")).Body.GetArrayLength() == 0)
        {
            Assert.True(Environment.TickCount64 < deadline, "the approval is pending");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }
}
