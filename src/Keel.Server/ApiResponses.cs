namespace Keel.Server;

// The answers of the calls that do not answer with one of the library's records.

/// <summary>Answer of <c>POST /api/runs/{id}/signals/{name}</c>: the signal is stored in the run's inbox.</summary>
internal sealed record SignalStored(string RunId, string Signal, bool Stored);

/// <summary>Answer of <c>POST /api/runs/{id}/resolve</c>: the step decided, and how.</summary>
internal sealed record StepResolved(string RunId, string Step, string Action);

/// <summary>Answer of <c>POST /api/runs/{id}/approvals</c>: the approval decided, and whether it was approved.</summary>
internal sealed record ApprovalDecided(PendingApproval Approval, bool Approved);

/// <summary>Answer of <c>POST /api/runs/{id}/approvals/links</c>: the link to send (its path on this server; the token is
/// in the fragment, which browsers do not send to servers), and until when it works.</summary>
internal sealed record ApprovalLinkMade(string Link, string Token, DateTimeOffset ExpiresAt, string Reviewer, PendingApproval Approval);

/// <summary>Answer of <c>POST /api/approval-links/read</c>: the approval a link answers, for whom, until when.</summary>
internal sealed record ApprovalLinkView(PendingApproval Approval, string Reviewer, string? MadeBy, DateTimeOffset ExpiresAt);
