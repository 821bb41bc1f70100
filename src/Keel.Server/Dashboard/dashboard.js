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
const pretty = json => { if (json == null) return ""; try { return JSON.stringify(JSON.parse(json), null, 2); } catch { return json; } };
const parse = json => { try { return JSON.parse(json); } catch { return null; } };
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
    el("td", { title: when(r.createdAt) }, ago(r.createdAt)), el("td", { title: when(r.updatedAt) }, ago(r.updatedAt))));
  fill(view, true, 
    el("h1", {}, "Runs"),
    el("div", { class: "filters" }, status, workflow),
    el("table", { id: "runs" }, el("thead", {}, el("tr", {}, ["Run", "Workflow", "Status", "Doing / why", "Created", "Updated"].map(h => el("th", {}, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No runs match.")))),
    el("div", { class: "row" },
      listState.cursors.length > 1 ? el("button", { id: "newer", onclick: () => { listState.cursors.pop(); render(); } }, "\u2190 Newer") : null,
      page.nextCursor ? el("button", { id: "older", onclick: () => { listState.cursors.push(page.nextCursor); render(); } }, "Older \u2192") : null,
      el("span", { class: "muted" }, `page ${listState.cursors.length}`)));
  schedule(3000);
}

function approvalCard(a) {
  const args = el("textarea", { name: "arguments", "aria-label": "arguments" }, pretty(a.argumentsJson));
  const by = el("input", { name: "by", placeholder: "your name", value: person() });
  const comment = el("input", { name: "comment", placeholder: "comment (why)", size: 40 });
  const option = a.options && a.options.length
    ? el("select", { name: "option" }, a.options.map(o => el("option", { value: o }, o))) : null;
  async function decide(approved) {
    if (by.value) localStorage.setItem("keel-person", by.value);
    const body = { approved, name: a.name, by: by.value || null, comment: comment.value || null };
    if (option) body.option = option.value;
    if (approved && args.value.trim() !== pretty(a.argumentsJson).trim()) {
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

// One sentence per journal entry: what happened, in words.
function describe(e, journal) {
  const payload = parse(e.payload);
  switch (e.kind) {
    case "StepCompleted": return `step completed (attempt ${e.attempt}${e.startedAt ? ", took " + span(e.startedAt, e.recordedAt) : ""})`;
    case "StepAttemptFailed": return `attempt ${e.attempt} failed: ${errorText(e.error)}${e.retryAt ? "; retry at " + when(e.retryAt) : ""}`;
    case "StepFailed": return `step failed for good after attempt ${e.attempt}: ${errorText(e.error)}`;
    case "StepStarted": return `attempt ${e.attempt} started (at most once: not re-run on its own)`;
    case "StepNeedsAttention": return `outcome unknown: needs a person's decision (${e.payload || ""})`;
    case "StepResolved": return payload ? `resolved by ${payload.by || "someone"}: ${String(payload.action).toLowerCase()}${payload.reason ? " (" + payload.reason + ")" : ""}` : "resolved";
    case "TimerFired": return "timer fired";
    case "CancelRequested": return "cancellation delivered to the workflow";
    case "SignalReceived": return `signal received${e.payload ? ": " + e.payload : ""}`;
    case "SignalTimedOut": return "wait for the signal timed out";
    case "SignalRejected": return `signal set aside (the wait goes on): ${errorText(e.error)}`;
    case "RunUnblocked": return `run unblocked${payload && payload.by ? " by " + payload.by : ""}${payload && payload.reason ? ": " + payload.reason : ""}`;
    case "ApprovalRequested": return `approval requested: ${payload && payload.title ? payload.title : e.name}`;
    case "ApprovalDecided": {
      if (!payload) return "approval decided";
      const edited = payload.editedArguments != null ? " with edited arguments" : "";
      return `${String(payload.outcome).toLowerCase()} by ${payload.by || "someone"}${edited}${payload.comment ? ": \u201c" + payload.comment + "\u201d" : ""}`;
    }
    case "ChildStarted": return `child run started: ${payload}`;
    case "ChildCompleted": return "child run completed";
    case "ChildFailed": return `child run ended without a result: ${errorText(e.error)}`;
    case "RunCompleted": return "run completed";
    case "RunFailed": return `run failed: ${errorText(e.error)}`;
    case "RunCancelled": return "run cancelled";
    case "RunBlocked": return `run blocked: ${errorText(e.error)}`;
    case "RunContinuedAsNew": return `continued as new run ${payload}`;
    default: return e.kind;
  }
}

function glance(run, journal) {
  const steps = new Set(journal.filter(e => e.kind === "StepCompleted").map(e => e.sequence));
  const failures = journal.filter(e => e.kind === "StepAttemptFailed" || e.kind === "StepFailed").length;
  const decisions = journal.filter(e => e.kind === "ApprovalDecided" || e.kind === "StepResolved").length;
  const item = (n, label) => el("div", {}, el("b", {}, n), label);
  // Model calls made through Keel.AI journal their usage with the response: summed here, each call once.
  const calls = journal.filter(e => e.kind === "StepCompleted" && e.payload && e.payload.includes('"usage"'))
    .map(e => parse(e.payload)).filter(p => p && p.usage && (p.response || p.updates));
  const tokens = calls.reduce((sum, p) => sum + (p.usage.total || 0), 0);
  return el("div", { class: "glance" }, item(steps.size, "steps completed"), item(failures, "failed attempts"),
    item(decisions, "decisions by people"), item(journal.length, "journal entries"),
    calls.length ? item(tokens.toLocaleString("en-US"), `tokens over ${calls.length} model call${calls.length === 1 ? "" : "s"}`) : null);
}

function timeline(run, journal) {
  const rows = journal.map(e => el("tr", { class: "k-" + e.kind, "data-kind": e.kind },
    el("td", { class: "mono" }, e.sequence), el("td", { title: when(e.recordedAt) }, "+" + span(run.createdAt, e.recordedAt)),
    el("td", { class: "mono" }, e.name), el("td", { class: "k-" + e.kind }, e.kind), el("td", {}, describe(e, journal),
      e.error && e.error.stackTrace ? el("details", {}, el("summary", { class: "muted" }, "stack"), el("pre", {}, e.error.stackTrace)) : null,
      e.kind === "StepCompleted" && e.payload ? el("details", {}, el("summary", { class: "muted" }, "result"), el("pre", {}, pretty(e.payload))) : null)));
  return el("table", { id: "timeline" },
    el("thead", {}, el("tr", {}, ["#", "At", "Operation", "Kind", "What happened"].map(h => el("th", {}, h)))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 5, class: "muted" }, "Nothing journaled yet."))));
}

function controls(run) {
  const id = enc(run.runId);
  const buttons = [];
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

function resolveCard(run, journal) {
  const open = [...journal].reverse().find(e => e.kind === "StepNeedsAttention");
  if (run.status !== "NeedsAttention" || !open) return null;
  const id = enc(run.runId);
  const result = el("input", { name: "result", placeholder: "result JSON, if it happened", size: 30 });
  const reason = el("input", { name: "reason", placeholder: "reason", size: 30 });
  const by = () => person() || null;
  return el("div", { class: "card attention", id: "resolve" },
    el("b", {}, `Step '${open.name}' needs a decision: `), "its outcome is unknown (it was interrupted). Check the outside system, then:",
    el("div", { class: "row" },
      el("button", { onclick: () => act("Step will run again.", () => api.post(`runs/${id}/resolve`, { action: "retry", reason: reason.value || null, by: by() })) }, "Run it again"),
      result, el("button", { onclick: () => {
        let value; try { value = JSON.parse(result.value); } catch (e) { banner("The result is not valid JSON: " + e.message); return; }
        act("Step completed with the given result.", () => api.post(`runs/${id}/resolve`, { action: "complete", result: value, reason: reason.value || null, by: by() }));
      } }, "It happened"),
      reason, el("button", { class: "danger", onclick: () => act("Step failed.", () => api.post(`runs/${id}/resolve`, { action: "fail", reason: reason.value || "failed by a person", by: by() })) }, "Fail it")));
}

async function renderRun(view, runId) {
  const id = enc(runId);
  // The run first, its journal after: the journal then holds every entry up to the state shown. (Read together, a run
  // that finished in between showed as Completed over a timeline without its last entries, and was not refreshed again.)
  const run = await api.get(`runs/${id}`);
  const [journal, pending] = await Promise.all([api.get(`runs/${id}/journal`), api.get(`approvals?runId=${id}`)]);
  const fact = (label, value) => value === null || value === undefined || value === "" ? [] : [el("dt", {}, label), el("dd", {}, value)];
  fill(view, true, 
    el("h1", {}, "Run ", el("span", { class: "mono" }, run.runId), " ", badge(run.status)),
    el("dl", { class: "facts" },
      fact("Workflow", run.workflowName),
      fact("Doing", run.customStatus ? `${run.customStatus.text} (${ago(run.customStatus.at)})` : null),
      fact("Why", run.statusReason),
      fact("Stuck", run.stuckChild ? `waiting for child run ${run.stuckChild.runId}, which is ${run.stuckChild.status}${run.stuckChild.reason ? ": " + run.stuckChild.reason : ""}` : null),
      fact("Created", when(run.createdAt)), fact("Updated", `${when(run.updatedAt)} (${ago(run.updatedAt)})`),
      fact("Finished", when(run.completedAt)), fact("Priority", String(run.priority)),
      fact("Held by", run.owner), fact("Pause", run.pauseRequested && run.status !== "Paused" ? "requested: pauses before its next operation" : null),
      fact("Parent", run.parentRunId ? runLink(run.parentRunId) : null),
      fact("Continued as", run.continuedAsRunId ? runLink(run.continuedAsRunId) : null)),
    controls(run),
    run.error ? el("div", { class: "card error", id: "run-error" }, el("b", {}, errorText(run.error)),
      run.error.stackTrace ? el("pre", {}, run.error.stackTrace) : null) : null,
    pending.length ? [el("h2", {}, "Waiting for a person"), pending.map(approvalCard)] : null,
    resolveCard(run, journal),
    el("h2", {}, "At a glance"), glance(run, journal),
    run.result != null ? [el("h2", {}, "Result"), el("pre", { id: "result" }, pretty(run.result))] : null,
    el("h2", {}, "Input"), el("pre", {}, pretty(run.input)),
    el("h2", {}, "Timeline"), timeline(run, journal));
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
