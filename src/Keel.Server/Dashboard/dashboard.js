// The Keel dashboard: plain DOM, no framework, no build step. Every text goes through textContent (never innerHTML),
// because names, payloads and errors come from workflows and people.
"use strict";

const api = (() => {
  const base = new URL("api/", new URL(".", location.href)).pathname;
  let key = sessionStorage.getItem("keel-api-key");

  async function call(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (key) headers["Authorization"] = "Bearer " + key;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401) {
      const given = prompt("This Keel server needs an API key (keel serve --api-key). Key:");
      if (given) { key = given; sessionStorage.setItem("keel-api-key", given); return call(method, path, body); }
    }
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) throw new Error(data && data.detail ? data.detail : `${response.status} ${response.statusText}`);
    return data;
  }
  return {
    get: path => call("GET", path),
    post: (path, body) => call("POST", path, body),
  };
})();

// ---- small DOM helpers ----
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  return fill(node, false, children);
}
// Appends (or, with replace, sets) children: nested arrays are flattened, null/undefined/false skipped.
function fill(node, replace, ...children) {
  const nodes = children.flat(Infinity).filter(c => c !== undefined && c !== null && c !== false)
    .map(c => c instanceof Node ? c : document.createTextNode(String(c)));
  if (replace) node.replaceChildren(...nodes); else node.append(...nodes);
  return node;
}
const enc = encodeURIComponent;
const badge = status => el("span", { class: "badge " + status, "data-status": status }, status);
const runLink = id => el("a", { href: "#/runs/" + enc(id), class: "mono" }, id);
// The API gives payloads (inputs, results, arguments) as JSON values.
const pretty = v => v === undefined || v === null ? "" : JSON.stringify(v, null, 2);
const when = iso => iso ? new Date(iso).toLocaleString() : "";
function ago(iso) {
  if (!iso) return "";
  const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 60) return Math.round(s) + "s ago";
  if (s < 3600) return Math.round(s / 60) + "m ago";
  if (s < 86400) return (s / 3600).toFixed(1) + "h ago";
  return (s / 86400).toFixed(1) + "d ago";
}
function span(fromIso, toIso) {
  if (!fromIso || !toIso) return "";
  const ms = new Date(toIso) - new Date(fromIso);
  return ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
}
const errorText = e => e ? `${e.type}: ${e.message}` : "";
const terminal = s => s === "Completed" || s === "Failed" || s === "Cancelled";
const person = () => localStorage.getItem("keel-person") || "";

function banner(message, ok) {
  const node = document.getElementById("banner");
  node.textContent = message;
  node.className = ok ? "ok" : "";
  node.hidden = !message;
  if (ok) setTimeout(() => { if (node.textContent === message) node.hidden = true; }, 4000);
}

// Runs an action; shows what happened or why it was refused (the server's own sentence), then redraws.
async function act(what, fn) {
  try { await fn(); banner(what, true); } catch (e) { banner(e.message); }
  await render();
}

// ---- views ----
let timer = null;
// cursors: the pages walked so far (null = the newest); a refresh redraws the page shown, not the first one.
let listState = { status: "", workflow: "", cursors: [null] };

async function renderRuns(view) {
  const status = el("select", { name: "status", onchange: e => { listState.status = e.target.value; listState.cursors = [null]; render(); } },
    ["", "Pending,Running,Waiting,Paused,NeedsAttention,Blocked", "Pending", "Running", "Waiting", "Paused", "NeedsAttention", "Blocked", "Completed", "Failed", "Cancelled"]
      .map(s => el("option", { value: s, selected: s === listState.status }, s === "" ? "all statuses" : s.includes(",") ? "not finished" : s)));
  const workflow = el("input", { name: "workflow", placeholder: "workflow name", value: listState.workflow,
    onchange: e => { listState.workflow = e.target.value.trim(); listState.cursors = [null]; render(); } });
  const query = new URLSearchParams({ limit: "50" });
  if (listState.status) query.set("status", listState.status);
  if (listState.workflow) query.set("workflow", listState.workflow);
  const cursor = listState.cursors[listState.cursors.length - 1];
  if (cursor) query.set("cursor", cursor);
  const page = await api.get("runs?" + query);
  const rows = page.runs.map(r => el("tr", { class: "clickable", "data-run": r.runId, onclick: () => { location.hash = "#/runs/" + enc(r.runId); } },
    el("td", {}, runLink(r.runId)), el("td", {}, r.workflowName), el("td", {}, badge(r.status)),
    el("td", {}, r.customStatus ? r.customStatus.text : (r.statusReason || "")),
    el("td", { class: "num", title: tokensTitle(r.tokens) }, r.tokens ? r.tokens.totalTokens.toLocaleString("en-US") : ""),
    el("td", { title: when(r.createdAt) }, ago(r.createdAt)), el("td", { title: when(r.updatedAt) }, ago(r.updatedAt))));
  fill(view, true, 
    el("h1", {}, "Runs"),
    el("div", { class: "filters" }, status, workflow),
    el("table", { id: "runs" }, el("thead", {}, el("tr", {}, ["Run", "Workflow", "Status", "Doing / why", "Tokens", "Created", "Updated"].map(h => el("th", {}, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 7, class: "muted" }, "No runs match.")))),
    el("div", { class: "row" },
      listState.cursors.length > 1 ? el("button", { id: "newer", onclick: () => { listState.cursors.pop(); render(); } }, "\u2190 Newer") : null,
      page.nextCursor ? el("button", { id: "older", onclick: () => { listState.cursors.push(page.nextCursor); render(); } }, "Older \u2192") : null,
      el("span", { class: "muted" }, `page ${listState.cursors.length}`)));
  schedule(3000);
}

function approvalCard(a) {
  const args = el("textarea", { name: "arguments", "aria-label": "arguments" }, pretty(a.arguments));
  const by = el("input", { name: "by", placeholder: "your name", value: person() });
  const comment = el("input", { name: "comment", placeholder: "comment (why)", size: 40 });
  const option = a.options && a.options.length
    ? el("select", { name: "option" }, a.options.map(o => el("option", { value: o }, o))) : null;
  async function decide(approved) {
    if (by.value) localStorage.setItem("keel-person", by.value);
    const body = { approved, name: a.name, by: by.value || null, comment: comment.value || null };
    if (option) body.option = option.value;
    if (approved && args.value.trim() !== pretty(a.arguments).trim()) {
      try { body.arguments = JSON.parse(args.value); } catch (e) { banner("The edited arguments are not valid JSON: " + e.message); return; }
    }
    await act(`${approved ? "Approved" : "Rejected"} '${a.title}'.`, () => api.post(`runs/${enc(a.runId)}/approvals`, body));
  }
  return el("div", { class: "card attention", "data-approval": a.name },
    el("div", {}, el("b", {}, a.title), " ", el("span", { class: "muted" }, `(${a.name}) for run `), runLink(a.runId),
      el("span", { class: "muted" }, ` · ${a.workflowName} · asked ${ago(a.requestedAt)}`),
      a.deadline ? el("span", { class: "muted" }, ` · deadline ${when(a.deadline)}`) : null),
    a.details ? el("p", {}, a.details) : null,
    a.action ? el("div", { class: "muted" }, "Gates step ", el("code", {}, a.action)) : null,
    el("div", { class: "muted" }, "Arguments (edit before approving to change them):"), args,
    el("div", { class: "row" }, by, comment, option,
      el("button", { class: "primary", onclick: () => decide(true) }, "Approve"),
      el("button", { class: "danger", onclick: () => decide(false) }, "Reject")));
}

async function renderApprovals(view) {
  const pending = await api.get("approvals");
  fill(view, true, el("h1", {}, "Waiting for a person"),
    pending.length ? pending.map(approvalCard) : el("p", { class: "muted" }, "Nothing waits for a decision."));
  schedule(3000);
}

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

// The run handed to a person (GET runs/{id}/handoff): rendered as the server built it, never re-derived here.
function handoffCard(h) {
  const list = (items, text) => items.length ? el("ul", {}, items.map(i => el("li", {}, text(i)))) : el("span", { class: "muted" }, "nothing");
  const who = d => `${d.by || "someone"} at ${when(d.at)}${d.reason ? ": " + d.reason : ""}`;
  const ranDone = h.ran.filter(r => r.state === "Completed").length;
  return el("section", { class: "card handoff", id: "handoff", "aria-label": "Handoff" },
    el("p", {}, el("b", {}, "State: "), h.state.summary),
    el("p", {}, el("b", {}, "Goal: "), `${h.goal.workflow} with `, el("span", { class: "mono" }, h.goal.inputSummary)),
    el("p", {}, el("b", {}, "Ran: "), `${h.ran.length} operation${h.ran.length === 1 ? "" : "s"}, ${ranDone} completed`),
    el("div", {}, el("b", {}, "Decided: "), list(h.decided, d => [`${d.position > 0 ? d.name + ": " : ""}${d.summary} by ${who(d)}`,
      d.changes.length ? el("ul", {}, d.changes.map(c => el("li", { class: "mono" }, `${c.path}: ${c.from === null ? "(none)" : JSON.stringify(c.from)} → ${c.to === null ? "(none)" : JSON.stringify(c.to)}`))) : null])),
    el("div", {}, el("b", {}, "Failed: "), list(h.failed, f => `${f.kind === "Attempt" ? `step '${f.name}' attempt ${f.attempt}` : f.kind === "Worker" ? "worker " + f.name : f.kind === "Run" ? "the run" : `'${f.name}'`}: ${f.error.message}${f.recovered ? " (went on past it)" : ""}`)),
    el("p", {}, el("b", {}, "Remains: "), h.remains.summary),
    el("div", {}, el("b", {}, "Next: "), list(h.next, a => [a.description, " ", el("code", {}, `${a.method} ${a.path}`)])));
}

function glance(history) {
  const s = history.summary;
  const item = (n, label) => el("div", {}, el("b", {}, n), label);
  // Model calls made through Keel.AI journal their usage with the response: summed here, each call once.
  const calls = history.operations.filter(op => op.kind === "Step" && op.state === "Completed" && op.result && typeof op.result === "object"
    && op.result.usage && (op.result.response || op.result.updates)).map(op => op.result);
  const tokens = calls.reduce((sum, p) => sum + (p.usage.total || 0), 0);
  return el("div", { class: "glance" }, item(s.stepsCompleted, "steps completed"), item(s.failedAttempts, "failed attempts"),
    item(s.decisions, "decisions by people"), item(s.entries, "journal entries"),
    calls.length ? item(tokens.toLocaleString("en-US"), `tokens over ${calls.length} model call${calls.length === 1 ? "" : "s"}`) : null);
}

// One row per operation (attempts, decisions and waits nested), then the run's own events.
function timeline(run, history) {
  const stack = e => e && e.stackTrace ? el("details", {}, el("summary", { class: "muted" }, "stack"), el("pre", {}, e.stackTrace)) : null;
  const rows = history.operations.map(op => el("tr", { class: "s-" + op.state, "data-kind": op.kind, "data-state": op.state, "data-name": op.name, "data-position": op.position },
    el("td", { class: "mono" }, op.position), el("td", { title: when(op.startedAt || op.endedAt) }, op.startedAt || op.endedAt ? "+" + span(run.createdAt, op.startedAt || op.endedAt) : ""),
    el("td", { class: "mono" }, op.name), el("td", {}, noun(op.kind), " ", badge(op.state)),
    el("td", {}, operationLines(op, history).map(line => el("div", {}, line)),
      stack(op.error), op.attempts.map(a => stack(a.error)),
      op.result != null && op.kind === "Step" ? el("details", {}, el("summary", { class: "muted" }, "result"), el("pre", {}, pretty(op.result))) : null)));
  const events = history.events.map(e => el("tr", { "data-event": e.kind },
    el("td", {}), el("td", { title: when(e.at) }, "+" + span(run.createdAt, e.at)), el("td", { class: "mono" }, run.workflowName),
    el("td", {}, "run"), el("td", {}, el("div", {}, eventText(e)), stack(e.error))));
  // Run-level decisions: a person's actions, and the tools a model chose (Keel.AI).
  const actions = history.decisions.filter(d => d.kind === "OperatorAction" || d.kind === "ToolChoice").map(d => el("tr", { "data-event": d.kind },
    el("td", {}), el("td", { title: when(d.at) }, "+" + span(run.createdAt, d.at)), el("td", { class: "mono" }, run.workflowName),
    el("td", {}, d.kind === "ToolChoice" ? "model" : "person"), el("td", {}, el("div", {}, decisionText(d)))));
  return el("table", { id: "timeline" },
    el("thead", {}, el("tr", {}, ["#", "At", "Operation", "Kind", "What happened"].map(h => el("th", {}, h)))),
    el("tbody", {}, rows.length || events.length ? [rows, events, actions] : el("tr", {}, el("td", { colspan: 5, class: "muted" }, "Nothing journaled yet."))));
}

function controls(run) {
  const id = enc(run.runId);
  const buttons = [];
  if (run.status === "Failed" && !run.parentRunId) buttons.push(el("button", { onclick: () => {
    const reason = prompt("Retry this run? It continues from the step whose failure ended it, with a fresh attempt budget. What was fixed?");
    if (reason !== null) act("Retried: the next worker continues it from the step that failed.", () => api.post(`runs/${id}/retry`, { reason: reason || null }));
  } }, "Retry"));
  if (!terminal(run.status)) {
    if (run.status === "Blocked") buttons.push(el("button", { onclick: () => {
      const reason = prompt("Unblock this run? It continues where it stopped. What was fixed?");
      if (reason !== null) act("Unblocked: the next worker continues it where it stopped.", () => api.post(`runs/${id}/unblock`, { reason: reason || null }));
    } }, "Unblock"));
    else if (run.status === "Paused" || run.pauseRequested) buttons.push(el("button", { onclick: () => act("Resumed.", () => api.post(`runs/${id}/resume`)) }, "Resume"));
    else buttons.push(el("button", { onclick: () => act("Pause requested: the run stops before its next operation.", () => api.post(`runs/${id}/pause`)) }, "Pause"));
    buttons.push(el("button", { class: "danger", onclick: () => {
      const reason = prompt("Cancel this run? Reason:");
      if (reason !== null) act("Cancellation requested.", () => api.post(`runs/${id}/cancel`, { reason: reason || null }));
    } }, "Cancel run"));
    const name = el("input", { name: "signal-name", placeholder: "signal name" });
    const payload = el("input", { name: "signal-payload", placeholder: "payload JSON (optional)", size: 30 });
    buttons.push(el("span", {}, name, " ", payload, " ", el("button", { onclick: async () => {
      let body;
      if (payload.value.trim()) { try { body = JSON.parse(payload.value); } catch (e) { banner("The payload is not valid JSON: " + e.message); return; } }
      await act(`Signal '${name.value}' stored.`, () => api.post(`runs/${id}/signals/${enc(name.value)}`, body));
    } }, "Send signal")));
  }
  return buttons.length ? el("div", { class: "row", id: "controls" }, buttons) : null;
}

// The step that waits for a person (the history's open attention), with the three decisions as buttons.
function resolveCard(run, history) {
  const open = history.attention;
  if (run.status !== "NeedsAttention" || !open) return null;
  const id = enc(run.runId);
  const precondition = open.reason.kind === "PreconditionNotMet";
  const result = el("input", { name: "result", placeholder: precondition ? "result JSON" : "result JSON, if it happened", size: 30 });
  const reason = el("input", { name: "reason", placeholder: "reason", size: 30 });
  const by = () => person() || null;
  return el("div", { class: "card attention", id: "resolve", "data-step": open.step },
    el("b", {}, `Step '${open.step}' needs a decision: `), reasonText(open.reason),
    precondition ? " Decide whether it may run:" : " Check the outside system, then:",
    el("div", { class: "row" },
      el("button", { onclick: () => act("Step will run again.", () => api.post(`runs/${id}/resolve`, { action: "retry", reason: reason.value || null, by: by() })) },
        precondition ? "Run it anyway" : "Run it again"),
      result, el("button", { onclick: () => {
        let value; try { value = JSON.parse(result.value); } catch (e) { banner("The result is not valid JSON: " + e.message); return; }
        act("Step completed with the given result.", () => api.post(`runs/${id}/resolve`, { action: "complete", result: value, reason: reason.value || null, by: by() }));
      } }, precondition ? "Complete it" : "It happened"),
      reason, el("button", { class: "danger", onclick: () => act("Step failed.", () => api.post(`runs/${id}/resolve`, { action: "fail", reason: reason.value || "failed by a person", by: by() })) }, "Fail it")));
}

async function renderRun(view, runId) {
  const id = enc(runId);
  // The history carries the run, read before its journal on the server: the journal holds every entry up to the state shown.
  const [history, pending, handoff] = await Promise.all([api.get(`runs/${id}/history`), api.get(`approvals?runId=${id}`), api.get(`runs/${id}/handoff`)]);
  const run = history.run;
  const fact = (label, value) => value === null || value === undefined || value === "" ? [] : [el("dt", {}, label), el("dd", {}, value)];
  fill(view, true, 
    el("h1", {}, "Run ", el("span", { class: "mono" }, run.runId), " ", badge(run.status)),
    handoffCard(handoff),
    el("dl", { class: "facts" },
      fact("Workflow", run.workflowName),
      fact("Doing", run.customStatus ? `${run.customStatus.text}${run.customStatus.progress ? ` [${run.customStatus.progress.done}/${run.customStatus.progress.total}]` : ""} (${ago(run.customStatus.at)})` : null),
      fact("Why", history.attention && run.status === "NeedsAttention" ? `step '${history.attention.step}': ${reasonText(history.attention.reason)}` : run.statusReason),
      fact("Remains", history.remaining ? (history.remaining.length ? `${history.remaining.join(", ")} (${history.remaining.length} of ${history.plan.length} planned)` : "nothing: the plan is done") : null),
      fact("Waiting", history.waits.length ? history.waits.map(w => el("div", {}, `${w.name}: ${waitText(w)}`)) : null),
      fact("Reached", history.operations.filter(o => o.position === history.currentPosition)
        .map(o => `#${o.position}: ${noun(o.kind)} ${o.name} (${lower(o.state)})`)[0]),
      fact("Stuck", run.stuckChild ? `waiting for child run ${run.stuckChild.runId}, which is ${run.stuckChild.status}${run.stuckChild.reason ? ": " + run.stuckChild.reason : ""}` : null),
      fact("Created", when(run.createdAt)), fact("Updated", `${when(run.updatedAt)} (${ago(run.updatedAt)})`),
      fact("Finished", when(run.completedAt)), fact("Priority", String(run.priority)),
      fact("Tokens", run.tokens ? tokensTitle(run.tokens) : null),
      fact("Held by", run.owner), fact("Build", run.buildId), fact("Pause", run.pauseRequested && run.status !== "Paused" ? "requested: pauses before its next operation" : null),
      fact("Parent", run.parentRunId ? runLink(run.parentRunId) : null),
      fact("Continued as", run.continuedAsRunId ? runLink(run.continuedAsRunId) : null)),
    controls(run),
    run.error ? el("div", { class: "card error", id: "run-error" }, el("b", {}, errorText(run.error)),
      run.error.stackTrace ? el("pre", {}, run.error.stackTrace) : null) : null,
    pending.length ? [el("h2", {}, "Waiting for a person"), pending.map(approvalCard)] : null,
    resolveCard(run, history),
    el("h2", {}, "At a glance"), glance(history),
    run.result != null ? [el("h2", {}, "Result"), el("pre", { id: "result" }, pretty(run.result))] : null,
    el("h2", {}, "Input"), el("pre", {}, pretty(run.input)),
    el("h2", {}, "Timeline"), timeline(run, history));
  if (!terminal(run.status)) schedule(2000);
}

// ---- routing and refresh ----
function schedule(ms) {
  clearTimeout(timer);
  // Do not redraw under someone's cursor: typing a comment or an edited argument must not be lost.
  timer = setTimeout(() => {
    const active = document.activeElement;
    if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA" || active.tagName === "SELECT")) schedule(ms);
    else render();
  }, ms);
}

async function refreshCount() {
  try {
    const pending = await api.get("approvals");
    const count = document.getElementById("approval-count");
    count.textContent = pending.length;
    count.hidden = pending.length === 0;
  } catch { /* the view shows the error */ }
}

async function render() {
  clearTimeout(timer);
  const view = document.getElementById("view");
  const hash = location.hash || "#/";
  const runMatch = hash.match(/^#\/runs\/(.+)$/);
  document.querySelectorAll("[data-nav]").forEach(a => a.classList.toggle("active",
    a.dataset.nav === (hash.startsWith("#/approvals") ? "approvals" : runMatch ? "" : "runs")));
  try {
    if (runMatch) await renderRun(view, decodeURIComponent(runMatch[1]));
    else if (hash.startsWith("#/approvals")) await renderApprovals(view);
    else await renderRuns(view);
    document.getElementById("refreshed").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    fill(view, true, el("div", { class: "card error" }, e.message));
    schedule(5000);
  }
  await refreshCount();
}

window.addEventListener("hashchange", () => { banner(""); render(); });
render();

// A run's token totals (kept with each journaled model call) in words; runs recorded before totals were kept have none.
function tokensTitle(t) {
  if (!t) return "";
  const n = v => v.toLocaleString("en-US");
  return `${n(t.totalTokens)} (input ${n(t.inputTokens)}, output ${n(t.outputTokens)}) over ${n(t.modelCalls)} model call${t.modelCalls === 1 ? "" : "s"}`;
}
