namespace Keel.Storage;

/// <summary>What a finishing child run tells its parent (<see cref="RunTransition.NotifyParent"/>).</summary>
/// <param name="ParentRunId">The parent run.</param>
/// <param name="SignalName">The signal its waiting operation consumes.</param>
/// <param name="Payload">The child's outcome as JSON.</param>
public sealed record ParentNotice(string ParentRunId, string SignalName, string Payload)
{
    /// <summary>The signal a parent's child operation at a position waits for.</summary>
    /// <param name="parentSequence">The position.</param>
    /// <returns>The signal name.</returns>
    public static string SignalNameFor(int parentSequence) => $"keel.child/{parentSequence}";

    /// <summary>The notice of a child that a store cancelled at once (it never ran, or was paused or blocked).</summary>
    /// <param name="parentRunId">The parent.</param>
    /// <param name="parentSequence">The parent's waiting position.</param>
    /// <param name="reason">Why it was cancelled.</param>
    /// <returns>The notice.</returns>
    public static ParentNotice Cancelled(string parentRunId, int parentSequence, string reason) =>
        new(parentRunId, SignalNameFor(parentSequence), KeelJson.Serialize(
            new Engine.ChildOutcomeData(RunStatus.Cancelled, null, null, reason), KeelJson.Default));
}
