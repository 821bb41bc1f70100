// The dashboard's lists: runs (live), the inbox, workers, and the page a reviewer opens from an approval link.
"use strict";

// cursors: the pages walked so far (null = the newest); live updates apply to the newest page only.
let listState = { status: "", workflow: "", since: "", cursors: [null] };
const statusChoices = ["", "Pending,Running,Waiting,Paused,NeedsAttention,Blocked", "Pending", "Running", "Waiting", "Paused", "NeedsAttention", "Blocked", "Completed", "Failed", "Cancelled"];
const sinceChoices = [["", "any time"], ["3600", "last hour"], ["86400", "last 24 hours"], ["604800", "last 7 days"]];

function listQuery() {
  const query = new URLSearchParams({ limit: "50" });
  if (listState.status) query.set("status", listState.status);
  if (listState.workflow) query.set("workflow", listState.workflow);
  if (listState.since) query.set("createdAfter", new Date(Date.now() - Number(listState.since) * 1000).toISOString());
  return query;
}

// The per-status counts of the list's other filters; each a button that narrows the list to it.
function countQuery() {
  const query = listQuery();
  query.delete("status");
  query.delete("limit");
  return query;
}
function statusCounts(counts) {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return el("div", { id: "status-counts", class: "chips", "aria-label": "Runs per status" },
    el("span", { class: "muted" }, `${total.toLocaleString("en-US")} run${total === 1 ? "" : "s"}:`),
    statusChoices.filter(s => s && !s.includes(",") && counts[s]).map(s => el("button", {
      class: "chip" + (listState.status === s ? " active" : ""), "data-count": s, "aria-pressed": String(listState.status === s),
      onclick: () => { listState.status = listState.status === s ? "" : s; listState.cursors = [null]; render(); },
    }, `${s} ${counts[s].toLocaleString("en-US")}`)));
}

// Why a run stands where it stands: what it is doing, why it stopped, or the error that ended it.
function doingText(r, silent) {
  if (silent) return `held by worker ${r.owner}, which has gone silent: another worker takes it over when its lease expires`;
  if (r.status === "Failed" && r.error) return errorText(r.error);
  return r.customStatus ? r.customStatus.text : (r.statusReason || "");
}

function runRow(r, deadWorkers) {
  const silent = r.owner && deadWorkers.has(r.owner) && !terminal(r.status);
  return el("tr", { class: "clickable" + (silent ? " silent" : ""), "data-key": r.runId, "data-run": r.runId, "data-created": r.createdAt, onclick: e => { if (e.target.tagName !== "A") location.hash = "#/runs/" + enc(r.runId); } },
    el("td", {}, runLink(r.runId)), el("td", {}, r.workflowName),
    el("td", {}, badge(r.status), silent ? el("span", { class: "badge Blocked", title: "its worker stopped answering" }, "worker silent") : null),
    el("td", { class: "why" }, doingText(r, silent)),
    el("td", { class: "num optional", title: tokensTitle(r.tokens) }, r.tokens ? r.tokens.totalTokens.toLocaleString("en-US") : ""),
    el("td", { class: "optional", title: when(r.createdAt) }, ago(r.createdAt)), el("td", { title: when(r.updatedAt) }, ago(r.updatedAt)));
}

const runsTable = (id, rows, empty) => el("div", { class: "table-wrap" }, el("table", { id },
  el("thead", {}, el("tr", {}, ["Run", "Workflow", "Status", "Doing / why", "Tokens", "Created", "Updated"]
    .map((h, i) => el("th", { scope: "col", class: i === 4 || i === 5 ? "optional" : null }, h)))),
  el("tbody", {}, rows.length ? rows : el("tr", { "data-key": "empty" }, el("td", { colspan: 7, class: "muted" }, empty)))));

async function deadWorkerIds() {
  try { return new Set((await api.get("workers?days=7")).filter(w => !w.alive).map(w => w.workerId)); } catch { return new Set(); }
}

async function renderRuns(view) {
  const reset = () => { listState.cursors = [null]; render(); };
  const status = el("select", { name: "status", onchange: e => { listState.status = e.target.value; reset(); } },
    statusChoices.map(s => el("option", { value: s, selected: s === listState.status }, s === "" ? "all statuses" : s.includes(",") ? "not finished" : s)));
  const workflow = el("input", { name: "workflow", placeholder: "any workflow", value: listState.workflow,
    onchange: e => { listState.workflow = e.target.value.trim(); reset(); } });
  const since = el("select", { name: "since", onchange: e => { listState.since = e.target.value; reset(); } },
    sinceChoices.map(([v, t]) => el("option", { value: v, selected: v === listState.since }, t)));
  const find = el("input", { name: "run-id", placeholder: "run id", autocomplete: "off" });
  const search = el("form", { class: "search", role: "search", onsubmit: async e => {
    e.preventDefault();
    const id = find.value.trim();
    if (!id) return;
    try { await api.get("runs/" + enc(id)); location.hash = "#/runs/" + enc(id); } catch (err) { banner(err.message); }
  } }, labelled("Find a run", find), el("button", { type: "submit" }, "Open"));
  const query = listQuery();
  const cursor = listState.cursors[listState.cursors.length - 1];
  if (cursor) query.set("cursor", cursor);
  const [page, dead, counts] = await Promise.all([api.get("runs?" + query), deadWorkerIds(), api.get("counts?" + countQuery())]);
  show(view,
    el("h1", {}, "Runs"),
    el("div", { class: "filters" }, labelled("Status", status), labelled("Workflow", workflow), labelled("Created", since), search),
    statusCounts(counts),
    runsTable("runs", page.runs.map(r => runRow(r, dead)), "No runs match."),
    el("div", { class: "row" },
      listState.cursors.length > 1 ? el("button", { id: "newer", onclick: () => { listState.cursors.pop(); render(); } }, "\u2190 Newer") : null,
      page.nextCursor ? el("button", { id: "older", onclick: () => { listState.cursors.push(page.nextCursor); render(); } }, "Older \u2192") : null,
      el("span", { class: "muted" }, `page ${listState.cursors.length}`)));
  if (listState.cursors.length > 1) return null;
  // The newest page follows the store: changed rows change in place, new runs appear on top, runs that leave the filter go.
  const recount = debounce(async () => {
    const node = document.getElementById("status-counts");
    if (node) { try { morph(node, statusCounts(await api.get("counts?" + countQuery()))); } catch { /* kept as it was */ } }
  }, 2000);
  return live("events?" + listQuery(), (type, data) => {
    const body = document.querySelector("#runs tbody");
    if (!body) return;
    if (type !== "counts") recount();
    if (type === "counts") showCounts(data);
    else if (type === "removed") body.querySelector(`tr[data-key="${CSS.escape(data.runId)}"]`)?.remove();
    else if (type === "run") {
      const row = runRow(data, dead);
      const existing = body.querySelector(`tr[data-key="${CSS.escape(data.runId)}"]`);
      body.querySelector('tr[data-key="empty"]')?.remove();
      if (existing) morph(existing, row);
      else if (body.rows.length === 0 || new Date(data.createdAt) >= new Date(body.rows[0].dataset.created || 0)) body.prepend(row);
      else body.append(row);
    }
  });
}

// The header's counts: what waits for a person, from the inbox.
function showCounts(counts) {
  const total = counts.approvals + counts.needsAttention + counts.blocked + counts.failed;
  const count = document.getElementById("inbox-count");
  count.textContent = total >= 100 ? "99+" : total;
  count.hidden = total === 0;
  count.title = `${counts.approvals} approvals, ${counts.needsAttention} need a decision, ${counts.blocked} blocked, ${counts.failed} failed today`;
  const approvals = document.getElementById("approval-count");
  approvals.textContent = counts.approvals;
  approvals.hidden = counts.approvals === 0;
}

function approvalCard(a) {
  const args = el("textarea", { name: "arguments", "aria-label": "arguments" }, pretty(a.arguments));
  const by = caller.name ? null : el("input", { name: "by", placeholder: "your name", value: person(), "aria-label": "your name" });
  const comment = el("input", { name: "comment", placeholder: "comment (why)", "aria-label": "comment" });
  const option = a.options && a.options.length
    ? el("select", { name: "option", "aria-label": "option" }, a.options.map(o => el("option", { value: o }, o))) : null;
  async function decide(approved) {
    if (by && by.value) localStorage.setItem("keel-person", by.value);
    const body = { approved, name: a.name, by: by ? by.value || null : null, comment: comment.value || null };
    if (option) body.option = option.value;
    if (approved && args.value.trim() !== pretty(a.arguments).trim()) {
      try { body.arguments = JSON.parse(args.value); } catch (e) { banner("The edited arguments are not valid JSON: " + e.message); return; }
    }
    await act(`${approved ? "Approved" : "Rejected"} '${a.title}'.`, () => api.post(`runs/${enc(a.runId)}/approvals`, body));
  }
  async function makeLink() {
    const values = await confirmAction({ title: "Send this approval to a reviewer", reason: false, confirm: "Make the link",
      changes: "A link that answers this approval once, for a reviewer who has no key. Their decision is journaled under the name you give.",
      fields: [{ name: "reviewer", label: "Reviewer (email or name)" }, { name: "minutes", label: "Works for (minutes)", type: "number", value: "1440" }] });
    if (!values) return;
    try {
      const made = await api.post(`runs/${enc(a.runId)}/approvals/links`, { reviewer: values.reviewer, name: a.name, expiresInMinutes: values.minutes ? Number(values.minutes) : null });
      const url = new URL(made.link, location.href).toString();
      fill(linkOut, true, el("label", { class: "field" }, el("span", {}, `Link for ${made.reviewer}, works until ${when(made.expiresAt)}, once:`),
        el("input", { name: "approval-link", readonly: true, value: url })));
    } catch (e) { banner(e.message); }
  }
  const linkOut = el("div", { class: "link-out" });
  const decides = may("Approver");
  return el("div", { class: "card attention", "data-approval": a.name, "data-key": `${a.runId}/${a.sequence}` },
    el("div", {}, el("b", {}, a.title), " ", el("span", { class: "muted" }, `(${a.name}) for run `), runLink(a.runId),
      el("span", { class: "muted" }, ` · ${a.workflowName} · asked ${ago(a.requestedAt)}`),
      a.deadline ? el("span", { class: "muted" }, ` · deadline ${when(a.deadline)}`) : null),
    a.details ? el("p", {}, a.details) : null,
    a.action ? el("div", { class: "muted" }, "Gates step ", el("code", {}, a.action)) : null,
    decides ? [el("div", { class: "muted" }, "Arguments (edit before approving to change them):"), args,
      el("div", { class: "row" }, by, comment, option,
        el("button", { class: "primary", onclick: () => decide(true) }, "Approve"),
        el("button", { class: "danger", onclick: () => decide(false) }, "Reject"),
        el("button", { onclick: makeLink }, "Send as a link\u2026")), linkOut]
      : [el("pre", {}, pretty(a.arguments)), el("p", { class: "muted" }, "Your key may read this approval but not decide it.")]);
}

async function renderApprovals(view) {
  const pending = await api.get("approvals");
  show(view, el("h1", {}, "Approvals"),
    pending.length ? pending.map(approvalCard) : el("p", { class: "muted" }, "Nothing waits for a decision."));
  return liveCounts(() => renderApprovals(view));
}

// The on-call's whole job: each part oldest-waiting first.
async function renderInbox(view) {
  const [inbox, dead] = await Promise.all([api.get("inbox"), deadWorkerIds()]);
  const part = (id, title, count, body) => el("section", { id, "aria-labelledby": id + "-title", "data-key": id },
    el("h2", { id: id + "-title" }, title, " ", el("span", { class: "pill" }, count >= 100 ? "100+" : String(count))), body);
  const rows = (id, runs, empty) => runsTable(id, runs.map(r => runRow(r, dead)), empty);
  show(view, el("h1", {}, "Inbox"),
    el("p", { class: "muted" }, "What waits for a person: decide approvals, settle steps whose outcome is unknown, unblock, and look at what failed today."),
    part("inbox-approvals", "Approvals", inbox.counts.approvals,
      inbox.approvals.length ? inbox.approvals.map(approvalCard) : el("p", { class: "muted" }, "No approval waits.")),
    part("inbox-attention", "Needs a decision", inbox.counts.needsAttention, rows("attention-runs", inbox.needsAttention, "No step waits for a decision.")),
    part("inbox-blocked", "Blocked", inbox.counts.blocked, rows("blocked-runs", inbox.blocked, "No run is blocked.")),
    part("inbox-failed", "Failed in the last 24 hours", inbox.counts.failed, rows("failed-runs", inbox.failed, "No run failed today.")));
  showCounts(inbox.counts);
  return liveCounts(() => renderInbox(view));
}

// Pages that show the inbox follow its counts: a change redraws them in place.
function liveCounts(redraw) {
  let last = null;
  const again = debounce(() => redraw().catch(e => banner(e.message)), 300);
  return live("events?limit=1", (type, data) => {
    if (type !== "counts") return;
    showCounts(data);
    const text = JSON.stringify(data);
    if (last !== null && last !== text) again();
    last = text;
  });
}

async function renderWorkers(view) {
  const workers = await api.get("workers?days=7");
  const rows = workers.map(w => el("tr", { "data-key": w.workerId, "data-worker": w.workerId },
    el("td", { class: "mono" }, w.workerId),
    el("td", {}, w.stoppedAt ? el("span", { class: "badge Cancelled" }, "stopped") : w.alive ? el("span", { class: "badge Completed" }, "alive") : el("span", { class: "badge Failed" }, "silent")),
    el("td", { title: when(w.lastSeenAt) }, ago(w.lastSeenAt)),
    el("td", { class: "num" }, String(w.runsHeld)),
    el("td", {}, w.workflows.join(", ")),
    el("td", { class: "optional" }, `${w.host} pid ${w.processId}`),
    el("td", { class: "optional" }, w.build || ""),
    el("td", { class: "optional", title: when(w.startedAt) }, ago(w.startedAt))));
  show(view, el("h1", {}, "Workers"),
    el("p", { class: "muted" }, "Workers seen in the last 7 days. A silent worker has not been heard from for 30 s: the runs it holds are taken over when their leases expire."),
    el("div", { class: "table-wrap" }, el("table", { id: "workers" },
      el("thead", {}, el("tr", {}, ["Worker", "State", "Last seen", "Runs held", "Workflows", "Where", "Build", "Started"]
        .map((h, i) => el("th", { scope: "col", class: i >= 5 ? "optional" : null }, h)))),
      el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 8, class: "muted" }, "No worker seen in the last 7 days."))))));
  return liveCounts(() => renderWorkers(view));
}

// The page a reviewer opens from an approval link: no key, no navigation; the token is the fragment of the link.
async function renderApprovalLink(view, token) {
  const post = async (path, body) => {
    const response = await fetch(api.base + path, { method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: JSON.stringify(body) });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error(data && data.detail ? data.detail : `${response.status} ${response.statusText}`);
    return data;
  };
  let link;
  try { link = await post("approval-links/read", { token }); }
  catch (e) { show(view, el("h1", {}, "Approval link"), el("div", { class: "card error", id: "link-refused", role: "alert" }, e.message)); return null; }
  const a = link.approval;
  const args = el("textarea", { name: "arguments", "aria-label": "arguments" }, pretty(a.arguments));
  const comment = el("input", { name: "comment", placeholder: "why", "aria-label": "comment" });
  const option = a.options && a.options.length ? el("select", { name: "option", "aria-label": "option" }, a.options.map(o => el("option", { value: o }, o))) : null;
  const decide = async approved => {
    const body = { token, approved, comment: comment.value || null };
    if (option) body.option = option.value;
    if (approved && args.value.trim() !== pretty(a.arguments).trim()) {
      try { body.arguments = JSON.parse(args.value); } catch (e) { banner("The edited arguments are not valid JSON: " + e.message); return; }
    }
    try {
      await post("approval-links/decide", body);
      show(view, el("h1", {}, "Approval link"), el("div", { class: "card", id: "link-done", role: "status" },
        `${approved ? "Approved" : "Rejected"}: '${a.title}'. Your decision is journaled as ${link.reviewer}'s; this link cannot be used again.`));
    } catch (e) { banner(e.message); }
  };
  show(view, el("h1", {}, "Approval requested"),
    el("div", { class: "card attention", id: "link-approval" },
      el("p", {}, el("b", {}, a.title), el("span", { class: "muted" }, ` · ${a.workflowName} run ${a.runId}`)),
      a.details ? el("p", {}, a.details) : null,
      a.action ? el("p", { class: "muted" }, "Gates step ", el("code", {}, a.action)) : null,
      el("p", { class: "muted" }, `For ${link.reviewer}${link.madeBy ? ", sent by " + link.madeBy : ""}; works once, until ${when(link.expiresAt)}.`),
      el("div", { class: "muted" }, "Arguments (edit before approving to change them):"), args,
      el("div", { class: "row" }, comment, option,
        el("button", { class: "primary", onclick: () => decide(true) }, "Approve"),
        el("button", { class: "danger", onclick: () => decide(false) }, "Reject"))));
  return null;
}
