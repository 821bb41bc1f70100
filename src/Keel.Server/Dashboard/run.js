// The run page: the handoff on top, the facts, the actions, a waterfall over time, and the timeline grouped by step.
// It renders the run's history (GET runs/{id}/history), which reads the journal once on the server: this file never
// interprets journal entry kinds, only the history's operations, attempts, waits, decisions and events.
"use strict";

// The run page's own state: how many operations are shown, and which groups a person opened.
const runView = { runId: null, shown: 0, open: new Set(), history: null, run: null };
const PageSize = 300;

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

// Model calls made through Keel.AI journal their usage with the response.
const usageOf = op => op.kind === "Step" && op.state === "Completed" && op.result && typeof op.result === "object"
  && op.result.usage && (op.result.response || op.result.updates) ? op.result.usage : null;

function glance(history) {
  const s = history.summary;
  const item = (n, label) => el("div", {}, el("b", {}, n), label);
  const calls = history.operations.map(usageOf).filter(Boolean);
  const tokens = calls.reduce((sum, u) => sum + (u.total || 0), 0);
  return el("div", { class: "glance" }, item(s.stepsCompleted, "steps completed"), item(s.failedAttempts, "failed attempts"),
    item(s.decisions, "decisions by people"), item(s.entries, "journal entries"),
    calls.length ? item(tokens.toLocaleString("en-US"), `tokens over ${calls.length} model call${calls.length === 1 ? "" : "s"}`) : null);
}

// Operations that repeat (an agent's model calls, a loop's steps) share a family: the name without its trailing number
// or hash. Three or more in a row are one group, closed until a person opens it.
const family = op => `${op.kind}:${op.name.replace(/[\s:#_-]*([0-9a-f]{6,}|\d+)$/i, "")}`;
function groups(operations) {
  const out = [];
  for (const op of operations) {
    const last = out[out.length - 1];
    if (last && last.family === family(op)) last.ops.push(op); else out.push({ family: family(op), ops: [op] });
  }
  return out.flatMap(g => g.ops.length >= 3 ? [g] : g.ops.map(op => ({ family: g.family, ops: [op] })));
}
const opStart = op => op.startedAt || (op.attempts[0] && op.attempts[0].startedAt) || op.endedAt;

function operationRow(run, history, op, hidden) {
  const stack = e => e && e.stackTrace ? el("details", {}, el("summary", { class: "muted" }, "stack"), el("pre", {}, e.stackTrace)) : null;
  const usage = usageOf(op);
  return el("tr", { class: "s-" + op.state, "data-key": "op-" + op.position, "data-kind": op.kind, "data-state": op.state, "data-name": op.name, "data-position": op.position, hidden },
    el("td", { class: "mono" }, op.position), el("td", { title: when(opStart(op)) }, opStart(op) ? "+" + span(run.createdAt, opStart(op)) : ""),
    el("td", { class: "mono" }, op.name), el("td", {}, noun(op.kind), " ", badge(op.state)),
    el("td", {}, operationLines(op, history).map(line => el("div", {}, line)),
      usage ? el("div", { class: "muted" }, `${(usage.total || 0).toLocaleString("en-US")} tokens (input ${usage.input || 0}, output ${usage.output || 0})`) : null,
      stack(op.error), op.attempts.map(a => stack(a.error)),
      op.result != null && op.kind === "Step" ? el("details", { "data-section": "result" }, el("summary", { class: "muted" }, "result"), el("pre", {}, pretty(op.result))) : null));
}

function groupRow(run, g) {
  const first = g.ops[0], last = g.ops[g.ops.length - 1];
  const key = "group-" + first.position;
  const open = runView.open.has(key);
  const states = Object.entries(g.ops.reduce((n, op) => ({ ...n, [op.state]: (n[op.state] || 0) + 1 }), {}))
    .map(([state, n]) => `${n} ${lower(state)}`).join(", ");
  const tokens = g.ops.map(usageOf).filter(Boolean).reduce((sum, u) => sum + (u.total || 0), 0);
  const toggle = el("button", { class: "link", "aria-expanded": String(open), onclick: () => {
    if (runView.open.has(key)) runView.open.delete(key); else runView.open.add(key);
    drawRun();
  } }, `${open ? "\u25be" : "\u25b8"} ${g.ops.length} \u00d7 ${first.name.replace(/[\s:#_-]*([0-9a-f]{6,}|\d+)$/i, "")}`);
  return el("tr", { class: "group", "data-key": key, "data-group": first.name },
    el("td", { class: "mono" }, `${first.position}\u2013${last.position}`),
    el("td", { title: when(opStart(first)) }, opStart(first) ? "+" + span(run.createdAt, opStart(first)) : ""),
    el("td", { colspan: 2 }, toggle),
    el("td", {}, `${states}${opStart(first) && last.endedAt ? ", over " + span(opStart(first), last.endedAt) : ""}${tokens ? `, ${tokens.toLocaleString("en-US")} tokens` : ""}`));
}

// One row per operation (attempts, decisions and waits nested), repeated operations grouped, then the run's own events.
function timeline(run, history) {
  const shown = history.operations.slice(0, runView.shown);
  const rows = groups(shown).flatMap(g => g.ops.length === 1 ? [operationRow(run, history, g.ops[0], false)]
    : [groupRow(run, g), ...g.ops.map(op => operationRow(run, history, op, !runView.open.has("group-" + g.ops[0].position)))]);
  const stack = e => e && e.stackTrace ? el("details", {}, el("summary", { class: "muted" }, "stack"), el("pre", {}, e.stackTrace)) : null;
  const events = history.events.map((e, i) => el("tr", { "data-key": "ev-" + i, "data-event": e.kind },
    el("td", {}), el("td", { title: when(e.at) }, "+" + span(run.createdAt, e.at)), el("td", { class: "mono" }, run.workflowName),
    el("td", {}, "run"), el("td", {}, el("div", {}, eventText(e)), stack(e.error))));
  // Run-level decisions: a person's actions, and the tools a model chose (Keel.AI).
  const actions = history.decisions.filter(d => d.kind === "OperatorAction" || d.kind === "ToolChoice").map(d => el("tr", { "data-key": "d-" + d.index, "data-event": d.kind },
    el("td", {}), el("td", { title: when(d.at) }, "+" + span(run.createdAt, d.at)), el("td", { class: "mono" }, run.workflowName),
    el("td", {}, d.kind === "ToolChoice" ? "model" : "person"), el("td", {}, el("div", {}, decisionText(d)))));
  const more = history.operations.length - shown.length;
  return [el("div", { class: "table-wrap" }, el("table", { id: "timeline" },
    el("thead", {}, el("tr", {}, ["#", "At", "Operation", "Kind", "What happened"].map(h => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length || events.length || actions.length ? [rows, events, actions] : el("tr", { "data-key": "none" }, el("td", { colspan: 5, class: "muted" }, "Nothing journaled yet."))))),
    more > 0 ? el("div", { class: "row" }, el("button", { id: "more", onclick: () => { runView.shown += PageSize; drawRun(); } },
      `Show ${Math.min(more, PageSize)} more operations (${more} not shown)`)) : null];
}

// Bars over time: each operation (or group) from its start to its end, waits in their own colour, and where the run
// changed hands between workers.
function waterfall(run, history) {
  const shown = groups(history.operations.slice(0, runView.shown));
  const start = new Date(run.createdAt).getTime();
  const endOf = op => op.endedAt ? new Date(op.endedAt).getTime() : (terminal(run.status) ? new Date(run.completedAt || run.updatedAt).getTime() : Date.now());
  const end = Math.max(start + 1, terminal(run.status) ? new Date(run.completedAt || run.updatedAt).getTime() : Date.now(),
    ...history.operations.map(endOf));
  const pct = t => `${(Math.max(0, Math.min(1, (t - start) / (end - start))) * 100).toFixed(2)}%`;
  const width = (a, b) => `${Math.max(0.4, ((b - a) / (end - start)) * 100).toFixed(2)}%`;
  const waits = new Set(["Timer", "Signal", "Approval", "ChildRun"]);
  const bars = shown.map(g => {
    const first = g.ops[0], last = g.ops[g.ops.length - 1];
    const from = opStart(first) ? new Date(opStart(first)).getTime() : start, to = endOf(last);
    const label = g.ops.length > 1 ? `${g.ops.length} \u00d7 ${first.name.replace(/[\s:#_-]*([0-9a-f]{6,}|\d+)$/i, "")}` : first.name;
    const tokens = g.ops.map(usageOf).filter(Boolean).reduce((sum, u) => sum + (u.total || 0), 0);
    const text = `${label}: ${span(new Date(from).toISOString(), new Date(to).toISOString())}${tokens ? `, ${tokens.toLocaleString("en-US")} tokens` : ""}`;
    const failedAttempts = g.ops.reduce((n, op) => n + op.attempts.filter(a => a.outcome === "Failed" || a.outcome === "FailedForGood").length, 0);
    return el("div", { class: "bar-row", "data-key": "bar-" + first.position },
      el("span", { class: "bar-label mono", title: text }, label),
      el("span", { class: "bar-track" },
        el("span", { class: `bar ${waits.has(first.kind) ? "wait" : ""} b-${last.state}`, style: `left:${pct(from)};width:${width(from, to)}`, title: text },
          failedAttempts ? el("span", { class: "sr-only" }, `${failedAttempts} failed attempts`) : null)));
  });
  const hands = history.events.filter(e => e.kind === "Claimed" || e.kind === "TakenOver").map((e, i) =>
    el("span", { class: "hand" + (e.kind === "TakenOver" ? " taken" : ""), style: `left:${pct(new Date(e.at).getTime())}`, title: eventText(e), "data-key": "hand-" + i }));
  return el("section", { id: "waterfall", "aria-label": "Waterfall: operations over time" },
    el("div", { class: "bar-row axis" }, el("span", { class: "bar-label muted" }, "+0"), el("span", { class: "bar-track" }, hands,
      el("span", { class: "axis-end muted" }, "+" + span(new Date(start).toISOString(), new Date(end).toISOString())))),
    bars.length ? bars : el("p", { class: "muted" }, "Nothing ran yet."));
}

function controls(run) {
  const id = enc(run.runId);
  const buttons = [];
  const ask = (label, options, call, done, cls) => buttons.push(el("button", { class: cls, onclick: async () => {
    // Read when clicked: a button kept across redraws must not offer what the run was when it was drawn.
    const values = await confirmAction({ title: `${label}: run ${run.runId}`, ...(typeof options === "function" ? options() : options) });
    if (values) await act(done, () => call(values));
  } }, label));
  if (!may("Operator")) return null;
  if (run.status === "Failed" && !run.parentRunId) ask("Retry", { changes: "The run continues from the step whose failure ended it, with a fresh attempt budget. Steps that completed are not run again." },
    v => api.post(`runs/${id}/retry`, { reason: v.reason, by: v.by }), "Retried: the next worker continues it from the step that failed.");
  if (run.status === "Blocked") ask("Unblock", { changes: "The run continues where it stopped, on the next worker, with a fresh recovery budget." },
    v => api.post(`runs/${id}/unblock`, { reason: v.reason, by: v.by }), "Unblocked: the next worker continues it where it stopped.");
  if (!terminal(run.status)) {
    if (run.status === "Paused" || run.pauseRequested) ask("Resume", { changes: "The run goes on from where it paused." },
      v => api.post(`runs/${id}/resume`, { reason: v.reason, by: v.by }), "Resumed.");
    else if (run.status !== "Blocked") ask("Pause", { changes: "The run stops before its next operation; nothing that ran is undone. Resume it later." },
      v => api.post(`runs/${id}/pause`, { reason: v.reason, by: v.by }), "Pause requested: the run stops before its next operation.");
    ask("Send signal\u2026", { reason: false, changes: "Stores a signal in the run's inbox; the run takes it when it waits for a signal of that name.",
      fields: [{ name: "signal", label: "Signal name" }, { name: "payload", label: "Payload (JSON, optional)", textarea: true }] },
      async v => {
        let body;
        if (v.payload) { try { body = JSON.parse(v.payload); } catch (e) { throw new Error("The payload is not valid JSON: " + e.message); } }
        const query = v.by ? `?by=${enc(v.by)}` : "";
        await api.post(`runs/${id}/signals/${enc(v.signal || "")}${query}`, body);
      }, "Signal stored.");
    ask("Priority\u2026", () => ({ changes: "Higher runs are claimed first when workers are busy.", fields: [{ name: "priority", label: "Priority", type: "number", value: String(runView.run.priority) }] }),
      v => api.post(`runs/${id}/priority`, { priority: Number(v.priority || 0), reason: v.reason, by: v.by }), "Priority changed.");
  }
  ask("Fork\u2026", () => ({ changes: "A new run with this run's journal up to the position you give: it replays what ran before that point and runs the rest anew. This run is not changed.",
    fields: [{ name: "at", label: "Fork at position", type: "number", value: String(runView.history.currentPosition) }, { name: "runId", label: "New run id (optional)" }] }),
    async v => { const fork = await api.post(`runs/${id}/fork`, { at: Number(v.at || 0), runId: v.runId, reason: v.reason, by: v.by }); location.hash = "#/runs/" + enc(fork.runId); },
    "Forked.");
  if (!terminal(run.status)) ask("Cancel run", { danger: true, confirm: "Cancel the run", changes: "The run stops at its next operation; compensations it registered run. This cannot be undone (a cancelled run can be forked)." },
    v => api.post(`runs/${id}/cancel`, { reason: v.reason, by: v.by }), "Cancellation requested.", "danger");
  return el("div", { class: "row", id: "controls" }, buttons);
}

// The step that waits for a person (the history's open attention), with the three decisions as buttons.
function resolveCard(run, history) {
  const open = history.attention;
  if (run.status !== "NeedsAttention" || !open) return null;
  const id = enc(run.runId);
  const precondition = open.reason.kind === "PreconditionNotMet";
  const result = el("input", { name: "result", placeholder: precondition ? "result JSON" : "result JSON, if it happened", "aria-label": "result (JSON)" });
  const reason = el("input", { name: "reason", placeholder: "reason", "aria-label": "reason" });
  const by = () => person() || null;
  const decides = may("Approver");
  return el("div", { class: "card attention", id: "resolve", "data-step": open.step, "data-key": "resolve-" + open.step },
    el("b", {}, `Step '${open.step}' needs a decision: `), reasonText(open.reason),
    !decides ? el("p", { class: "muted" }, "Your key may not decide it.") : [
      precondition ? " Decide whether it may run:" : " Check the outside system, then:",
      el("div", { class: "row" },
        el("button", { onclick: () => act("Step will run again.", () => api.post(`runs/${id}/resolve`, { action: "retry", reason: reason.value || null, by: by() })) },
          precondition ? "Run it anyway" : "Run it again"),
        result, el("button", { onclick: () => {
          let value; try { value = JSON.parse(result.value); } catch (e) { banner("The result is not valid JSON: " + e.message); return; }
          act("Step completed with the given result.", () => api.post(`runs/${id}/resolve`, { action: "complete", result: value, reason: reason.value || null, by: by() }));
        } }, precondition ? "Complete it" : "It happened"),
        reason, el("button", { class: "danger", onclick: () => act("Step failed.", () => api.post(`runs/${id}/resolve`, { action: "fail", reason: reason.value || "failed by a person", by: by() })) }, "Fail it"))]);
}

function holderText(run, holder) {
  if (!run.owner) return null;
  if (!holder || holder.alive) return `${run.owner}${holder && holder.host ? " on " + holder.host : ""}`;
  return el("span", { class: "warn-text" }, `${run.owner}, which has gone silent${holder.lastSeenAt ? " (last heard " + ago(holder.lastSeenAt) + ")" : ""}: ` +
    "it is presumed dead, and another worker takes the run over when its lease expires");
}

async function drawRun() {
  const view = document.getElementById("view");
  const id = enc(runView.runId);
  // The history carries the run, read before its journal on the server: the journal holds every entry up to the state shown.
  const [history, pending, handoff] = await Promise.all([api.get(`runs/${id}/history`), api.get(`approvals?runId=${id}`), api.get(`runs/${id}/handoff`)]);
  const run = history.run;
  runView.history = history;
  runView.run = run;
  const fact = (label, value) => value === null || value === undefined || value === "" ? [] : [el("dt", {}, label), el("dd", {}, value)];
  const silent = run.owner && history.holder && !history.holder.alive && !terminal(run.status);
  // Each part keeps its place (data-key) whether or not it has something to show, so a part that appears (a result,
  // an approval) does not shift the others into being redrawn.
  const part = (key, ...children) => el("div", { "data-key": key, class: "part" }, children);
  show(view,
    part("title", el("h1", {}, "Run ", el("span", { class: "mono" }, run.runId), " ", badge(run.status), silent ? el("span", { class: "badge Blocked" }, "worker silent") : null)),
    part("handoff", handoffCard(handoff)),
    part("facts", el("dl", { class: "facts" },
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
      fact("Held by", holderText(run, history.holder)), fact("Build", run.buildId), fact("Pause", run.pauseRequested && run.status !== "Paused" ? "requested: pauses before its next operation" : null),
      fact("Parent", run.parentRunId ? runLink(run.parentRunId) : null),
      fact("Continued as", run.continuedAsRunId ? runLink(run.continuedAsRunId) : null))),
    part("controls", controls(run)),
    part("error", run.error ? el("div", { class: "card error", id: "run-error" }, el("b", {}, errorText(run.error)),
      run.error.stackTrace ? el("details", { "data-section": "run-stack" }, el("summary", { class: "muted" }, "stack"), el("pre", {}, run.error.stackTrace)) : null) : null),
    part("approvals", pending.length ? [el("h2", {}, "Waiting for a person"), pending.map(approvalCard)] : null),
    part("resolve", resolveCard(run, history)),
    part("glance", el("h2", {}, "At a glance"), glance(history)),
    part("result", run.result != null ? [el("h2", {}, "Result"), el("pre", { id: "result" }, pretty(run.result))] : null),
    part("input", el("details", { class: "input", "data-section": "input" }, el("summary", {}, "Input"), el("pre", {}, pretty(run.input)))),
    part("waterfall", el("h2", {}, "Waterfall"), waterfall(run, history)),
    part("timeline", el("h2", {}, "Timeline"), timeline(run, history)));
  return history;
}

async function renderRun(view, runId) {
  if (runView.runId !== runId) { runView.runId = runId; runView.shown = PageSize; runView.open = new Set(); }
  const history = await drawRun();
  // New journal entries and changes of the run redraw what changed, in place.
  const redraw = debounce(() => drawRun().catch(e => banner(e.message)), 250);
  return live(`runs/${enc(runId)}/events?after=${history.summary.entries}`, (type, data) => {
    // The stream starts with the run as it is: no redraw when that is what the page already shows.
    if (type === "run" && data.updatedAt === runView.run.updatedAt && data.status === runView.run.status && data.owner === runView.run.owner) return;
    redraw();
  });
}
