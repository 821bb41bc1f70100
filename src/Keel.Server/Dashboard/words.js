// The dashboard's words for what the read model says: the run page and the lists render these, never journal kinds.
"use strict";

// The run page renders the run's history (GET runs/{id}/history), which reads the journal once on the server: this
// file never interprets journal entry kinds, only the history's operations, attempts, waits, decisions and events.
const lower = s => String(s || "").toLowerCase();
const json = v => v === undefined || v === null ? "" : JSON.stringify(v);
const decisionsAt = (history, position) => history.decisions.filter(d => d.position === position);
const noun = kind => ({ ChildRun: "child run" })[kind] || lower(kind);

// Why a step waits for a person, in the dashboard's words (older journals recorded text: shown as it was).
function reasonText(reason) {
  if (!reason) return "";
  switch (reason.kind) {
    case "OutcomeUnknown":
      return `its outcome is unknown: the process stopped while attempt ${reason.attempt} ran` +
        (reason.attemptStartedAt ? ` (started ${when(reason.attemptStartedAt)})` : "") + "; it is not run again on its own." +
        (reason.detail ? ` The outcome check said: ${reason.detail}.` : "");
    case "PreconditionNotMet":
      return `a precondition did not hold: ${(reason.unmet || []).join("; ")}. Its body did not run.`;
    default:
      return reason.detail || "it waits for a person's decision.";
  }
}

function waitText(wait) {
  const since = wait.since ? ` since ${when(wait.since)}` : "";
  switch (wait.kind) {
    case "Signal": return `waiting for signal '${wait.signalName}'${since}${wait.dueAt ? ", times out " + when(wait.dueAt) : ""}`;
    case "Timer": return `waiting until ${when(wait.dueAt)}${since}`;
    case "Approval": return `waiting for a decision on '${wait.title || wait.name}'${since}${wait.dueAt ? ", deadline " + when(wait.dueAt) : ""}`;
    case "ChildRun": return `waiting for child run ${wait.childRunId}${since}`;
    case "Retry": return `next attempt due ${when(wait.dueAt)}`;
    case "Person": return `waiting for a person's decision${since}`;
    default: return `waiting${since}`;
  }
}

function attemptText(a) {
  const took = a.startedAt && a.endedAt ? ", took " + span(a.startedAt, a.endedAt) : "";
  switch (a.outcome) {
    case "Completed": return `attempt ${a.number} completed${took}`;
    case "Failed": return `attempt ${a.number} failed: ${errorText(a.error)}${a.retryAt ? "; retry at " + when(a.retryAt) : ""}`;
    case "FailedForGood": return `attempt ${a.number} failed for good: ${errorText(a.error)}`;
    case "Unknown": return `attempt ${a.number} started (at most once); its process stopped while it ran`;
    default: return `attempt ${a.number} started${a.atMostOnce ? " (at most once: not re-run on its own)" : ""}`;
  }
}

function decisionText(d) {
  switch (d.kind) {
    case "Approval": {
      if (!d.outcome) return "approval decided";
      if (d.outcome === "Expired") return "expired: nobody decided before the deadline";
      const edited = d.editedArguments != null ? " with edited arguments" : "";
      return `${lower(d.outcome)} by ${d.by || "someone"}${edited}${d.reason ? ": \u201c" + d.reason + "\u201d" : ""}`;
    }
    case "StepResolution":
      return `resolved by ${d.by || "someone"}: ${lower(d.action)}${d.result != null ? " with " + json(d.result) : ""}${d.reason ? " (" + d.reason + ")" : ""}`;
    case "Retry":
      return `retried${d.by ? " by " + d.by : ""}${d.reason ? ": " + d.reason : ""}`;
    case "OperatorAction": {
      const what = { pause: "pause asked", resume: "resumed", cancel: "cancel asked", priority: `priority set to ${d.result}`, signal: `signal '${d.signalName}' sent` }[d.name] || d.name;
      return `${what}${d.by ? " by " + d.by : ""}${d.reason ? ": " + d.reason : ""}`;
    }
    case "ToolChoice":
      return `${d.by ? "the model " + d.by : "the model"} chose to call ${d.name}${d.proposedArguments != null ? " with " + json(d.proposedArguments) : ""}`;
    default:
      return `unblocked${d.by ? " by " + d.by : ""}${d.reason ? ": " + d.reason : ""}`;
  }
}

function workerText(w) {
  if (!w) return "?";
  const where = [w.host ? "host " + w.host : null, w.pid != null ? "pid " + w.pid : null, w.build ? "build " + w.build : null].filter(Boolean);
  return where.length ? `${w.id} (${where.join(", ")})` : w.id;
}

function releasedText(e) {
  const due = e.dueAt ? ` (due ${when(e.dueAt)})` : "";
  if (!e.status) return "handed back (its worker was stopping)";
  if (e.status === "Paused") return "paused";
  if (e.status === "Running" || e.status === "Pending") return "to try again later" + due;
  return (e.reason || e.status) + due;
}

function eventText(e) {
  switch (e.kind) {
    case "Completed": return "run completed";
    case "Failed": return `run failed: ${errorText(e.error)}`;
    case "Cancelled": return "run cancelled";
    case "Blocked": return `run blocked: ${errorText(e.error)}`;
    case "Unblocked": return `run unblocked${e.by ? " by " + e.by : ""}${e.reason ? ": " + e.reason : ""}`;
    case "Retried": return `run retried${e.by ? " by " + e.by : ""}${e.reason ? ": " + e.reason : ""}: it continues from the step that failed`;
    case "CancelDelivered": return "cancellation delivered to the workflow";
    case "ContinuedAsNew": return ["continued as new run ", runLink(e.runId)];
    case "ForkedFrom": return ["forked from run ", runLink(e.runId), ` ${e.reason || ""}${e.by ? " by " + e.by : ""}`];
    case "ForkedTo": return ["forked as run ", runLink(e.runId), ` ${e.reason || ""}${e.by ? " by " + e.by : ""}`];
    case "Claimed": return `worker ${workerText(e.worker)} took the run`;
    case "TakenOver": return `worker ${e.previousWorker} stopped without letting go (crashed, killed or stalled); worker ${workerText(e.worker)} took the run over`;
    case "Released": return `worker ${e.worker ? e.worker.id : "?"} let go of the run: ${releasedText(e)}`;
    default: return e.kind;
  }
}

// What happened to one operation, one line each, in the order they happened.
function operationLines(op, history) {
  const lines = [];
  if (op.approval) lines.push(`approval requested: ${op.approval.title}${op.approval.action ? " (gates step " + op.approval.action + ")" : ""}`);
  if (op.childRunId) lines.push(["child run ", runLink(op.childRunId)]);
  for (const a of op.attempts) lines.push(attemptText(a));
  for (const a of op.attentions) lines.push(`needs a person's decision: ${reasonText(a.reason)}`);
  for (const r of op.rejectedSignals) lines.push(`signal set aside (the wait goes on): ${errorText(r.error)}`);
  for (const d of decisionsAt(history, op.position)) lines.push(decisionText(d));
  if (op.state === "Completed" && op.kind === "Signal") lines.push(`signal received${op.result != null ? ": " + json(op.result) : ""}`);
  if (op.state === "Completed" && op.kind === "Timer") lines.push("timer fired");
  if (op.state === "Completed" && op.kind === "ChildRun") lines.push("child run completed");
  if (op.state === "Failed" && op.kind !== "Step") lines.push(errorText(op.error));
  if (op.state === "Cancelled") lines.push("ended with the run, without an outcome");
  if (op.wait) lines.push(waitText(op.wait));
  return lines;
}

// A run's token totals (kept with each journaled model call) in words; runs recorded before totals were kept have none.
function tokensTitle(t) {
  if (!t) return "";
  const n = v => v.toLocaleString("en-US");
  return `${n(t.totalTokens)} (input ${n(t.inputTokens)}, output ${n(t.outputTokens)}) over ${n(t.modelCalls)} model call${t.modelCalls === 1 ? "" : "s"}`;
}
