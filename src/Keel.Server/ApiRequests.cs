using System.Text.Json;

namespace Keel.Server;

// The bodies the HTTP API accepts. Unknown members are refused (see ApiJson), so a typo is an error, not a silent default.

/// <summary>Body of <c>POST /api/runs</c>.</summary>
/// <param name="Workflow">The workflow's registered name.</param>
/// <param name="Input">The input, any JSON value; null when omitted.</param>
/// <param name="RunId">The run id; starting twice with one id returns the existing run. Generated when omitted.</param>
/// <param name="Priority">Higher runs are claimed first; 0 when omitted.</param>
/// <param name="AllowUnknownWorkflow">Queue the run although no worker seen lately serves the workflow (workers deployed
/// later run it); otherwise such a start is refused with 400, naming the workflows the workers serve.</param>
public sealed record StartRunRequest(string Workflow, JsonElement? Input = null, string? RunId = null, int? Priority = null, bool? AllowUnknownWorkflow = null);

/// <summary>Body of <c>POST /api/runs/{id}/cancel</c> (optional).</summary>
/// <param name="Reason">Why, kept with the run.</param>
public sealed record CancelRunRequest(string? Reason = null)
{
    /// <summary>Who cancels it, journaled.</summary>
    public string? By { get; init; }
}

/// <summary>Body of <c>POST /api/runs/{id}/pause</c> and <c>/resume</c> (optional).</summary>
/// <param name="By">Who, journaled.</param>
/// <param name="Reason">Why, journaled.</param>
public sealed record RunActionRequest(string? By = null, string? Reason = null);

/// <summary>Body of <c>POST /api/runs/{id}/unblock</c> (optional).</summary>
/// <param name="By">Who unblocks it, journaled.</param>
/// <param name="Reason">Why (what was fixed), journaled.</param>
public sealed record UnblockRunRequest(string? By = null, string? Reason = null);

/// <summary>Who retries a Failed run and why (<c>POST /api/runs/{id}/retry</c>); both optional.</summary>
/// <param name="By">Who.</param>
/// <param name="Reason">Why.</param>
public sealed record RetryRunRequest(string? By = null, string? Reason = null);

/// <summary>Body of <c>POST /api/runs/{id}/priority</c>.</summary>
/// <param name="Priority">The new priority; higher runs are claimed first.</param>
public sealed record SetPriorityRequest(int Priority)
{
    /// <summary>Who changes it, journaled.</summary>
    public string? By { get; init; }

    /// <summary>Why, journaled.</summary>
    public string? Reason { get; init; }
}

/// <summary>Body of <c>POST /api/runs/{id}/approvals</c>: a person's decision on the approval the run waits for.</summary>
/// <param name="Approved">True to approve, false to reject.</param>
/// <param name="By">Who decided, journaled with the decision.</param>
/// <param name="Comment">Why, journaled with the decision.</param>
/// <param name="Arguments">Edited arguments (approve only); the proposed ones when omitted.</param>
/// <param name="Option">One of the options the request offers, if any.</param>
/// <param name="Name">Which approval, when the run waits for several; the oldest when omitted.</param>
public sealed record DecideApprovalRequest(bool Approved, string? By = null, string? Comment = null, JsonElement? Arguments = null,
    string? Option = null, string? Name = null);

/// <summary>Body of <c>POST /api/runs/{id}/resolve</c>: what to do with a step whose outcome is unknown.</summary>
/// <param name="Action"><c>retry</c> (run the step again), <c>complete</c> (it happened: use <paramref name="Result"/>) or <c>fail</c>.</param>
/// <param name="Result">The step's result for <c>complete</c>.</param>
/// <param name="Reason">Why; required for <c>fail</c>.</param>
/// <param name="By">Who decided.</param>
public sealed record ResolveStepRequest(string Action, JsonElement? Result = null, string? Reason = null, string? By = null);

/// <summary>How to fork a run (<c>POST /api/runs/{id}/fork</c>).</summary>
/// <param name="At">The position from which the fork runs live.</param>
/// <param name="ReplaceResult">A corrected result for the step at the position, or null to run it.</param>
/// <param name="Input">The fork's input, or null for the source's.</param>
/// <param name="RunId">The fork's run id, or null for one derived from the source's.</param>
/// <param name="By">Who.</param>
/// <param name="Reason">Why.</param>
public sealed record ForkRunRequest(int At, System.Text.Json.JsonElement? ReplaceResult = null, System.Text.Json.JsonElement? Input = null,
    string? RunId = null, string? By = null, string? Reason = null);

/// <summary>Body of <c>POST /api/runs/{id}/approvals/links</c>: a link for a reviewer who has no key.</summary>
/// <param name="Reviewer">Who the link is for (an email address, a name): journaled as who decided.</param>
/// <param name="Name">Which approval, when the run waits for several; the oldest when omitted.</param>
/// <param name="ExpiresInMinutes">How long the link works; one day when omitted (at most seven).</param>
public sealed record ApprovalLinkRequest(string Reviewer, string? Name = null, int? ExpiresInMinutes = null);

/// <summary>Body of <c>POST /api/approval-links/read</c>: the token of an approval link.</summary>
/// <param name="Token">The token (what follows <c>#/approve/</c> in the link).</param>
public sealed record ApprovalLinkToken(string Token);

/// <summary>Body of <c>POST /api/approval-links/decide</c>: a reviewer's decision through an approval link.</summary>
/// <param name="Token">The token of the link.</param>
/// <param name="Approved">True to approve, false to reject.</param>
/// <param name="Comment">Why, journaled with the decision.</param>
/// <param name="Arguments">Edited arguments (approve only).</param>
/// <param name="Option">One of the options the request offers, if any.</param>
public sealed record ApprovalLinkDecision(string Token, bool Approved, string? Comment = null, JsonElement? Arguments = null, string? Option = null);
