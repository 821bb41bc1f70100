namespace Keel.Server;

// The answers of the calls that do not answer with one of the library's records.

/// <summary>Answer of <c>POST /api/runs/{id}/signals/{name}</c>: the signal is stored in the run's inbox.</summary>
internal sealed record SignalStored(string RunId, string Signal, bool Stored);

/// <summary>Answer of <c>POST /api/runs/{id}/resolve</c>: the step decided, and how.</summary>
internal sealed record StepResolved(string RunId, string Step, string Action);

/// <summary>Answer of <c>POST /api/runs/{id}/approvals</c>: the approval decided, and whether it was approved.</summary>
internal sealed record ApprovalDecided(PendingApproval Approval, bool Approved);
