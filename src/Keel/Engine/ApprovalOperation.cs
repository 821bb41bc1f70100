using System.Text.Json;
using Keel.Storage;

namespace Keel.Engine;

/// <summary>
/// <see cref="WorkflowContext.RequestApprovalAsync{TArgs}"/>: journals the request (and lists it as pending), then waits
/// for the decision a person sends through the client, or for the deadline.
/// </summary>
internal sealed class ApprovalOperation<TArgs>(IOperationHost host, int sequence, ApprovalRequest<TArgs> request, ApprovalRequestData data, bool alreadyRequested)
    : InboxWaitOperation(host, sequence, request.Name, ApprovalDecisionData.SignalName(sequence), data.Deadline)
{
    private readonly TaskCompletionSource<ApprovalDecision<TArgs>> _tcs = new();

    public Task<ApprovalDecision<TArgs>> Task => _tcs.Task;

    public override string Describe() => $"approval '{Name}'";

    protected override int? ClosesApproval => Sequence;

    public override void Start()
    {
        if (!alreadyRequested)
        {
            var now = Host.Now;
            var json = KeelJson.Serialize(data, KeelJson.Default);
            var entry = new JournalEntry { Sequence = Sequence, Kind = JournalEntryKind.ApprovalRequested, Name = Name, RecordedAt = now, Payload = json };
            Host.Post(new InboxItem(InboxItemKind.Record, Entry: entry, OpenApproval: new ApprovalRecord
            {
                Sequence = Sequence, Name = Name, Request = json, RequestedAt = now, Deadline = Deadline,
            }));
        }
        base.Start();
    }

    protected override JournalEntry ReceivedEntry(StoredSignal signal)
    {
        // A malformed decision is recorded as received; delivery reports it.
        var decision = ReadPayload<ApprovalDecisionData>(signal);
        var payload = decision is null ? signal.Payload : KeelJson.Serialize(decision with { ProposedArguments = data.Arguments }, KeelJson.Default);
        return new JournalEntry
        {
            Sequence = Sequence, Kind = JournalEntryKind.ApprovalDecided, Name = Name, RecordedAt = Host.Now, StartedAt = signal.SentAt,
            Payload = payload,
        };
    }

    protected override JournalEntry ExpiredEntry()
    {
        var now = Host.Now;
        var expired = new ApprovalDecisionData(ApprovalOutcome.Expired, null, null, null, null, now) { ProposedArguments = data.Arguments };
        return new JournalEntry
        {
            Sequence = Sequence, Kind = JournalEntryKind.ApprovalDecided, Name = Name, RecordedAt = now, StartedAt = Deadline,
            Payload = KeelJson.Serialize(expired, KeelJson.Default),
        };
    }

    protected override void CompleteWait(JournalEntry entry)
    {
        try
        {
            var decision = KeelJson.Deserialize<ApprovalDecisionData>(entry.Payload ?? "null", KeelJson.Default)
                           ?? throw new JsonException("The decision is empty.");
            var options = Host.SerializerOptions;
            var proposed = request.Arguments;
            var isEdited = decision.Outcome == ApprovalOutcome.Approved && decision.EditedArguments is { ValueKind: not JsonValueKind.Null };
            _tcs.TrySetResult(new ApprovalDecision<TArgs>
            {
                Outcome = decision.Outcome, Arguments = isEdited ? decision.EditedArguments!.Value.Deserialize(KeelJson.TypeInfo<TArgs>(options))! : proposed,
                ProposedArguments = proposed, ArgumentsEdited = isEdited,
                Option = decision.Option, DecidedBy = decision.By, Comment = decision.Comment, DecidedAt = decision.DecidedAt,
            });
        }
        catch (JsonException ex)
        {
            _tcs.TrySetException(new SignalPayloadException($"approval '{Name}'", typeof(TArgs), entry.Payload, ex));
        }
    }

    protected override void CancelCore(CancellationToken token) => _tcs.TrySetCanceled(token);
}
