using Keel.Storage;

namespace Keel.Tests.Storage;

public sealed class RunUpdateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly RunTransition Released = new() { ReleaseLease = true };
    private static readonly ErrorInfo Error = new("E", "m", null);
    private static readonly ParentNotice Notice = new("parent", ParentNotice.SignalNameFor(1), "{}");
    private static readonly NewRun Successor = new() { RunId = "next", WorkflowName = "w", Input = "{}", CreatedAt = T0 };

    /// <summary>Each case breaks one rule; the message names it.</summary>
    public static TheoryData<string, string> Broken => new()
    {
        { "result with Failed", "a result goes only with the status Completed" },
        { "result without a status", "a result goes only with the status Completed" },
        { "error with Waiting", "an error goes only with the status Failed or Blocked" },
        { "error with Completed", "an error goes only with the status Failed or Blocked" },
        { "Waiting held", "the status Waiting goes only with the lease released" },
        { "Completed held", "the status Completed goes only with the lease released" },
        { "Paused held", "the status Paused goes only with the lease released" },
        { "due time held", "a due time goes only with the lease released" },
        { "awaited signals held", "awaited signals go only with the lease released" },
        { "payload kinds without signals", "signal payload kinds go only with awaited signals" },
        { "parent notice with Blocked", "a parent notice goes only with a terminal status" },
        { "parent notice without a status", "a parent notice goes only with a terminal status" },
        { "successor without a transition", "a successor (ContinueAs) goes only with a terminal status" },
        { "successor with Waiting", "a successor (ContinueAs) goes only with a terminal status" },
        { "failed recovery held", "a failed recovery goes only with the lease released" },
        { "failed and recovered", "a recovery cannot both fail and succeed" },
    };

    private static RunUpdate Case(string name) => name switch
    {
        "result with Failed" => new() { Transition = Released with { Status = RunStatus.Failed, Result = "1" }, At = T0 },
        "result without a status" => new() { Transition = Released with { Result = "1" }, At = T0 },
        "error with Waiting" => new() { Transition = Released with { Status = RunStatus.Waiting, Error = Error }, At = T0 },
        "error with Completed" => new() { Transition = Released with { Status = RunStatus.Completed, Error = Error }, At = T0 },
        "Waiting held" => new() { Transition = new() { Status = RunStatus.Waiting }, At = T0 },
        "Completed held" => new() { Transition = new() { Status = RunStatus.Completed }, At = T0 },
        "Paused held" => new() { Transition = new() { Status = RunStatus.Paused }, At = T0 },
        "due time held" => new() { Transition = new() { DueAt = T0 }, At = T0 },
        "awaited signals held" => new() { Transition = new() { WaitsForSignals = ["go"] }, At = T0 },
        "payload kinds without signals" => new() { Transition = Released with { SignalPayloadKinds = "{}" }, At = T0 },
        "parent notice with Blocked" => new() { Transition = Released with { Status = RunStatus.Blocked, NotifyParent = Notice }, At = T0 },
        "parent notice without a status" => new() { Transition = Released with { NotifyParent = Notice }, At = T0 },
        "successor without a transition" => new() { ContinueAs = Successor, At = T0 },
        "successor with Waiting" => new() { Transition = Released with { Status = RunStatus.Waiting }, ContinueAs = Successor, At = T0 },
        "failed recovery held" => new() { Transition = new() { Error = Error }, Recovery = new() { Failed = true }, At = T0 },
        "failed and recovered" => new() { Transition = Released, Recovery = new() { Failed = true, Recovered = true }, At = T0 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Broken))]
    public void Validate_ARuleBroken_ThrowsArgumentExceptionNamingIt(string name, string rule)
    {
        var exception = Assert.Throws<ArgumentException>(() => Case(name).Validate());
        Assert.Contains(rule, exception.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Legal => ["nothing", "custom status", "error without a status", "held Running", "released Pending",
        "consumed and released", "approvals", "recovery point", "all groups empty"];

    private static RunUpdate LegalCase(string name) => name switch
    {
        "nothing" => new() { At = T0 },
        "custom status" => new() { CustomStatus = new RunCustomStatus("half way", null, T0), At = T0 },
        "error without a status" => new() { Transition = new() { Error = Error }, At = T0 },
        "held Running" => new() { Transition = new() { Status = RunStatus.Running }, At = T0 },
        "released Pending" => new() { Transition = Released with { Status = RunStatus.Pending }, At = T0 },
        "consumed and released" => new() { Transition = Released, Inbox = new() { ConsumedSignals = [1, 2] }, At = T0 },
        "approvals" => new() { Approvals = new() { Closed = [3] }, At = T0 },
        "recovery point" => new() { Recovery = new() { Point = "p" }, At = T0 },
        "all groups empty" => new() { Transition = new(), Inbox = new() { ConsumedSignals = [] }, Approvals = new(), Recovery = new(), At = T0 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Legal))]
    public void Validate_ALegalCombination_DoesNotThrow(string name) => LegalCase(name).Validate();

    [Fact]
    public void Factories_BuildTheEngineShapes_WhichValidate()
    {
        var handBack = RunUpdate.HandBack(T0);
        Assert.Equal(new RunTransition { ReleaseLease = true }, handBack.Transition);
        Assert.Equal(T0, handBack.At);

        Assert.Equal(new RunTransition { Status = RunStatus.Paused, ReleaseLease = true }, RunUpdate.Pause(T0).Transition);

        var wait = RunUpdate.ReleaseToWait(RunStatus.NeedsAttention, T0.AddHours(1), ["keel.resolve/1/1"], "{}", "why", T0);
        Assert.Equal(RunStatus.NeedsAttention, wait.Transition!.Status);
        Assert.True(wait.Transition.ReleaseLease);
        Assert.Equal((T0.AddHours(1), "{}", "why"), (wait.Transition.DueAt, wait.Transition.SignalPayloadKinds, wait.Transition.StatusReason));
        Assert.Equal(["keel.resolve/1/1"], wait.Transition.WaitsForSignals!);

        var finish = RunUpdate.Finish(RunStatus.Completed, T0, result: "42", notifyParent: Notice);
        Assert.Equal(new RunTransition { Status = RunStatus.Completed, ReleaseLease = true, Result = "42", NotifyParent = Notice }, finish.Transition);
        var blocked = RunUpdate.Finish(RunStatus.Blocked, T0, error: Error, reason: "quarantined");
        Assert.Equal((Error, "quarantined"), (blocked.Transition!.Error, blocked.Transition.StatusReason));

        var next = RunUpdate.ContinueAsNew(Successor, "continued", T0);
        Assert.Equal(Successor, next.ContinueAs);
        Assert.Equal(new RunTransition { Status = RunStatus.Completed, ReleaseLease = true, StatusReason = "continued" }, next.Transition);

        Assert.Equal(new RecoveryChange { Point = "p" }, RunUpdate.RecordRecoveryPoint("p", T0).Recovery);
        Assert.Null(RunUpdate.RecordRecoveryPoint("p", T0).Transition);
        Assert.Equal(new RecoveryChange { Recovered = true }, RunUpdate.MarkRecovered(T0).Recovery);
        var failed = RunUpdate.FailRecovery(Error, T0.AddSeconds(2), T0);
        Assert.Equal(new RecoveryChange { Failed = true }, failed.Recovery);
        Assert.Equal(new RunTransition { ReleaseLease = true, Error = Error, DueAt = T0.AddSeconds(2) }, failed.Transition);

        foreach (var update in new[] { handBack, RunUpdate.Pause(T0), wait, finish, blocked, next, RunUpdate.RecordRecoveryPoint("p", T0), RunUpdate.MarkRecovered(T0), failed })
        {
            update.Validate();
        }
    }
}
