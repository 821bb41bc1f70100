using System.Text.Json;
using System.Text.Json.Serialization;
using Keel.Engine;

namespace Keel.Tests;

/// <summary>
/// Keel's own records are serialized from source-generated metadata (so Keel works in a native AOT app): the JSON must
/// stay exactly what reflection wrote before, since journals and inboxes already hold it.
/// </summary>
public class JsonTests
{
    // What KeelJson.Default was before the records were source-generated: web defaults, enums as strings, reflection.
    private static readonly JsonSerializerOptions s_reflection = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public static TheoryData<object> Records()
    {
        using var arguments = JsonDocument.Parse("""{"to":"ops@example.com","amount":12.5}""");
        var args = arguments.RootElement.Clone();
        var at = new DateTimeOffset(2026, 11, 26, 10, 30, 0, TimeSpan.FromHours(1));
        return new TheoryData<object>
        {
            new ChildOutcomeData(RunStatus.Cancelled, "\"done\"", new ErrorInfo("System.TimeoutException", "slow", "at X") { IsTerminal = true }, "operator"),
            new ChildOutcomeData(RunStatus.Completed, null, null, null),
            new ApprovalRequestData("Pay", "invoice 7", "pay", args, ["approve", "reject"], at),
            new ApprovalDecisionData(ApprovalOutcome.Approved, "ana", "ok", "approve", args, at) { ProposedArguments = args },
            new StepResolutionData(StepResolutionAction.Complete, "3", "already sent", "ana", at),
            new RunCustomStatus("ranking", "{\"n\":3}", at),
            new ErrorInfo("E", "m"),
        };
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void OwnRecords_SerializeAsReflectionDid_AndReadBack(object record)
    {
        var type = record.GetType();
        var json = JsonSerializer.Serialize(record, KeelJson.Default.GetTypeInfo(type));
        Assert.Equal(JsonSerializer.Serialize(record, type, s_reflection), json);
        var back = JsonSerializer.Deserialize(json, KeelJson.Default.GetTypeInfo(type));
        Assert.Equal(json, JsonSerializer.Serialize(back, KeelJson.Default.GetTypeInfo(type)));
    }

    [Fact]
    public void StoreJson_WritesWhatReflectionWrote_AndReadsItBack()
    {
        var error = new ErrorInfo("System.IO.IOException", "disk \"full\"", "at A\nat B") { IsTerminal = true };
        var json = Keel.Storage.StoreJson.Serialize(error);
        Assert.Equal(JsonSerializer.Serialize(error, s_reflection), json);
        Assert.Equal(error, Keel.Storage.StoreJson.ReadError(json));
        var status = new RunCustomStatus("ranking", null, DateTimeOffset.UnixEpoch.AddDays(3));
        Assert.Equal(status, Keel.Storage.StoreJson.ReadCustomStatus(Keel.Storage.StoreJson.Serialize(status)));
        Assert.Equal(JsonSerializer.Serialize(new[] { "a", "b\"" }, s_reflection), Keel.Storage.StoreJson.Serialize(new[] { "a", "b\"" }));
        Assert.Equal("[1,-2]", Keel.Storage.StoreJson.Serialize(new List<long> { 1, -2 }));
    }

    [Fact]
    public async Task SerializerOptionsWithoutResolver_GetTheReflectionOne_LikeJsonSerializerDoes()
    {
        using var db = new TempDatabase();
        var plain = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        await using var keel = await TestHost.StartAsync(db,
            k => k.AddWorkflow<Parcel, Parcel>("relabel", async (ctx, p) =>
                await ctx.StepAsync("label", _ => Task.FromResult(p with { Label = p.Label.ToUpperInvariant() }))),
            options: o => o.SerializerOptions = plain);
        var run = await keel.Client.StartAsync("relabel", new Parcel("fragile", 3), cancellationToken: TestHost.Token);
        Assert.Equal(new Parcel("FRAGILE", 3), await keel.Client.GetResultAsync<Parcel>(run.RunId, TestHost.Token));
        var info = await keel.Client.GetRunAsync(run.RunId, TestHost.Token);
        Assert.Equal("""{"label":"fragile","item_count":3}""", info!.Input);
        Assert.True(plain.IsReadOnly);
    }

    [Fact]
    public async Task WorkerWithoutAContractForAWorkflowsInput_RefusesToStart_AndLeavesItsRunsAlone()
    {
        using var db = new TempDatabase();
        static void Register(KeelBuilder k) => k.AddWorkflow<Parcel, Parcel>("relabel", async (ctx, p) =>
        {
            await ctx.WaitForSignalAsync<string>("go");
            return p;
        });
        string runId;
        await using (var keel = await TestHost.StartAsync(db, Register))
        {
            runId = (await keel.Client.StartAsync("relabel", new Parcel("x", 1), cancellationToken: TestHost.Token)).RunId;
            await TestHost.EventuallyAsync(async () => (await keel.Client.GetRunAsync(runId, TestHost.Token))!.Status == RunStatus.Waiting, "the run waits");
        }
        // What a native AOT app without the workflow's types in its JsonSerializerContext has: no reflection fallback.
        var aotLike = new JsonSerializerOptions(KeelJson.Default) { TypeInfoResolver = OnlyStrings.Default };
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            TestHost.StartAsync(db, Register, options: o => o.SerializerOptions = aotLike));
        Assert.Contains("'relabel'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(typeof(Parcel).FullName!, ex.Message, StringComparison.Ordinal);
        await using var after = await TestHost.StartAsync(db, Register);
        var run = await after.Client.GetRunAsync(runId, TestHost.Token);
        Assert.Equal(RunStatus.Waiting, run!.Status);
        Assert.Null(run.Error);
    }

    public sealed record Parcel(string Label, int ItemCount);

    [Fact]
    public void PayloadsAsValues_WritesTheJsonARunHoldsAsValues_ReadsThemBack_AndLeavesTheArchiveFormatAlone()
    {
        var at = new DateTimeOffset(2026, 11, 26, 10, 30, 0, TimeSpan.Zero);
        var run = new RunInfo
        {
            RunId = "r", WorkflowName = "w", Status = RunStatus.Completed, Input = """{"question":"why \"x\"?"}""", Result = "42",
            CreatedAt = at, UpdatedAt = at,
        };
        var json = JsonSerializer.Serialize(run, KeelJson.PayloadsAsValues);
        using (var document = JsonDocument.Parse(json))
        {
            Assert.Equal("why \"x\"?", document.RootElement.GetProperty("input").GetProperty("question").GetString());
            Assert.Equal(42, document.RootElement.GetProperty("result").GetInt32());
        }
        var back = JsonSerializer.Deserialize<RunInfo>(json, KeelJson.PayloadsAsValues)!;
        // The same JSON (its text may escape differently: the options' encoder writes it).
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(System.Text.Json.Nodes.JsonNode.Parse(run.Input), System.Text.Json.Nodes.JsonNode.Parse(back.Input!)), back.Input);
        Assert.Equal(run.Result, back.Result);

        // Text that is not JSON is still shown (as a string); the default settings keep payloads as strings.
        var entry = new JournalEntry { Sequence = 1, Kind = JournalEntryKind.StepCompleted, Name = "s", RecordedAt = at, Payload = "not json" };
        Assert.Contains("\"payload\":\"not json\"", JsonSerializer.Serialize(entry, KeelJson.PayloadsAsValues), StringComparison.Ordinal);
        Assert.Contains("\"result\":\"42\"", JsonSerializer.Serialize(run, KeelJson.Default), StringComparison.Ordinal);

        var approval = new PendingApproval
        {
            RunId = "r", WorkflowName = "w", Sequence = 2, Name = "pay", Title = "Pay", ArgumentsJson = """{"amount":5}""", RequestedAt = at,
        };
        using var shown = JsonDocument.Parse(JsonSerializer.Serialize(approval, KeelJson.PayloadsAsValues));
        Assert.Equal(5, shown.RootElement.GetProperty("arguments").GetProperty("amount").GetInt32());
    }
}

[JsonSerializable(typeof(string))]
internal sealed partial class OnlyStrings : JsonSerializerContext;
