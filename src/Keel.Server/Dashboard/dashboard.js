// The Keel dashboard, core: the API client (with sign-in), DOM helpers, in-place updates, live streams and dialogs.
// Plain DOM, no framework, no build step. Every text goes through textContent (never innerHTML), because names,
// payloads and errors come from workflows and people. Pages are in lists.js and run.js; routing in app.js.
"use strict";

// ---- the API, and who is calling ----
class SignInNeeded extends Error {}

const api = (() => {
  const base = new URL("api/", new URL(".", location.href)).pathname;
  const headers = extra => {
    const h = { "Accept": "application/json", ...extra };
    const key = sessionStorage.getItem("keel-api-key");
    if (key) h["Authorization"] = "Bearer " + key;
    return h;
  };
  async function call(method, path, body) {
    const response = await fetch(base + path, {
      method, headers: headers(body === undefined ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = null; }
    if (response.status === 401) throw new SignInNeeded(data && data.detail ? data.detail : "This Keel server needs an API key.");
    if (!response.ok) throw new Error(data && data.detail ? data.detail : `${response.status} ${response.statusText}`);
    return data;
  }
  return { base, headers, get: path => call("GET", path), post: (path, body) => call("POST", path, body) };
})();

// The key's name and role (GET me): pages offer only the actions the key may take.
let caller = { name: null, role: "Operator", keysRequired: false };
const ranks = { Viewer: 0, Approver: 1, Operator: 2 };
const may = role => ranks[caller.role] >= ranks[role];

// ---- small DOM helpers ----
// Nodes with listeners are replaced, never patched, by morph (their handlers close over the data they were made for).
const withListeners = new WeakSet();
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) { node.addEventListener(name.slice(2), value); withListeners.add(node); }
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

// Brings `old` to look like `neu` while keeping every node that did not change: an opened section stays open, typed
// text stays typed, the scroll does not move. Children with data-key are matched by key, others by place.
function morph(old, neu) {
  // A keyed part with handlers (a card, a row) is one piece: its handlers read its own inputs, so it is kept or replaced whole.
  if (keyOf(old) !== null && keyOf(old) === keyOf(neu) && hasListeners(neu)) {
    if (!old.isEqualNode(neu)) old.replaceWith(neu);
    return;
  }
  if (old.nodeType !== neu.nodeType || old.nodeName !== neu.nodeName || keyOf(old) !== keyOf(neu)
      || withListeners.has(old) || withListeners.has(neu)) {
    if (!old.isEqualNode(neu)) old.replaceWith(neu);
    return;
  }
  if (old.nodeType === Node.TEXT_NODE) { if (old.data !== neu.data) old.data = neu.data; return; }
  if (old.nodeType !== Node.ELEMENT_NODE) return;
  for (const { name } of [...old.attributes]) if (!neu.hasAttribute(name) && name !== "open") old.removeAttribute(name);
  for (const { name, value } of [...neu.attributes]) if (old.getAttribute(name) !== value) old.setAttribute(name, value);
  const next = [...neu.childNodes];
  const keyed = next.length > 0 && next.every(n => keyOf(n) !== null);
  if (keyed) {
    const byKey = new Map(), leftovers = [];
    for (const n of [...old.childNodes]) { const k = keyOf(n); if (k !== null && !byKey.has(k)) byKey.set(k, n); else leftovers.push(n); }
    next.forEach((n, i) => {
      const match = byKey.get(keyOf(n));
      byKey.delete(keyOf(n));
      const at = old.childNodes[i];
      if (match) { if (match !== at) old.insertBefore(match, at || null); morph(match, n); }
      else old.insertBefore(n, at || null);
    });
    for (const rest of [...byKey.values(), ...leftovers]) rest.remove();
    return;
  }
  const before = [...old.childNodes];
  next.forEach((n, i) => { if (i < before.length) morph(before[i], n); else old.appendChild(n); });
  for (let i = next.length; i < before.length; i++) before[i].remove();
}
const hasListeners = n => withListeners.has(n) || [...n.querySelectorAll("*")].some(c => withListeners.has(c));
const keyOf = n => n.nodeType === Node.ELEMENT_NODE && n.hasAttribute("data-key") ? n.getAttribute("data-key") : null;

// Renders a page into the view in place (see morph).
function show(view, ...children) {
  const next = fill(document.createElement("main"), false, children);
  if (!view.hasChildNodes()) { fill(view, true, [...next.childNodes]); return; }
  const holder = view.cloneNode(false);
  holder.append(...next.childNodes);
  morph(view, holder);
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
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
  if (ms < 3600000) return `${Math.floor(ms / 60000)}m ${String(Math.round(ms / 1000) % 60).padStart(2, "0")}s`;
  return `${Math.floor(ms / 3600000)}h ${String(Math.round(ms / 60000) % 60).padStart(2, "0")}m`;
}
const errorText = e => e ? `${e.type}: ${e.message}` : "";
const terminal = s => s === "Completed" || s === "Failed" || s === "Cancelled";
const person = () => caller.name || localStorage.getItem("keel-person") || "";
// A labelled control: every input says what it is for, to a screen reader too.
const labelled = (text, control) => el("label", { class: "field" }, el("span", {}, text), control);

// What happened after an action, or why it was refused: one polite live region, not the whole page.
function banner(message, ok) {
  const node = document.getElementById("banner");
  node.textContent = message;
  node.className = ok ? "ok" : "";
  node.hidden = !message;
  if (ok) setTimeout(() => { if (node.textContent === message) node.hidden = true; }, 4000);
}

// Runs an action; shows what happened or why it was refused (the server's own sentence), then redraws.
async function act(what, fn) {
  try { await fn(); banner(what, true); } catch (e) { if (e instanceof SignInNeeded) { signIn(e.message); return; } banner(e.message); }
  await render();
}

// Asks before an action that changes a run: what it will change, who (the key's name or a typed name) and why.
// Resolves with the form's values, or null when cancelled.
function confirmAction({ title, changes, fields = [], reason = true, danger = false, confirm = "Confirm" }) {
  return new Promise(resolve => {
    const inputs = {};
    const rows = fields.map(f => {
      inputs[f.name] = el(f.textarea ? "textarea" : "input", { name: f.name, type: f.type || "text", value: f.value ?? "", placeholder: f.placeholder || "" });
      if (f.textarea && f.value) inputs[f.name].value = f.value;
      return labelled(f.label, inputs[f.name]);
    });
    if (reason) inputs.reason = el("input", { name: "reason", placeholder: "what was fixed, or why" });
    if (!caller.name) inputs.by = el("input", { name: "by", value: person(), placeholder: "your name" });
    const dialog = el("dialog", { class: "confirm", "aria-labelledby": "confirm-title" },
      el("form", { method: "dialog" },
        el("h2", { id: "confirm-title" }, title),
        el("p", {}, changes),
        rows,
        inputs.reason ? labelled("Reason", inputs.reason) : null,
        inputs.by ? labelled("Your name", inputs.by) : el("p", { class: "muted" }, `Journaled as ${caller.name}.`),
        el("div", { class: "row" },
          el("button", { value: "ok", class: danger ? "danger" : "primary" }, confirm),
          el("button", { value: "cancel", formnovalidate: true }, "Keep it as it is"))));
    dialog.addEventListener("close", () => {
      const values = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value.trim() || null]));
      if (values.by) localStorage.setItem("keel-person", values.by);
      dialog.remove();
      resolve(dialog.returnValue === "ok" ? values : null);
    });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// ---- live updates: server-sent events read with fetch (EventSource cannot send the API key) ----
// Calls onEvent(type, data) for each event; reconnects with the last event id after a drop. Returns a stop function.
function live(path, onEvent) {
  let stopped = false, lastId = null, controller = null;
  (async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const extra = { "Accept": "text/event-stream" };
        if (lastId !== null) extra["Last-Event-ID"] = lastId;
        const response = await fetch(api.base + path, { headers: api.headers(extra), signal: controller.signal });
        if (!response.ok) throw new Error(String(response.status));
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let type = "message", data = "";
            for (const line of block.split("\n")) {
              if (line.startsWith("event:")) type = line.slice(6).trim();
              else if (line.startsWith("data:")) data += line.slice(5).replace(/^ /, "");
              else if (line.startsWith("id:")) lastId = line.slice(3).trim();
            }
            if (!stopped && type !== "ping") onEvent(type, data ? JSON.parse(data) : null);
          }
        }
      } catch { /* dropped, refused or stopped: try again below */ }
      if (!stopped) await new Promise(r => setTimeout(r, 2000));
    }
  })();
  return () => { stopped = true; if (controller) controller.abort(); };
}

// Coalesces a burst of calls into one, at most every `ms`, and never under a person's cursor: typing a comment or an
// edited argument is not interrupted.
function debounce(fn, ms) {
  let timer = null;
  const run = () => {
    const active = document.activeElement;
    if (active && active.closest("main") && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { timer = setTimeout(run, ms); return; }
    timer = null;
    fn();
  };
  return () => { if (timer === null) timer = setTimeout(run, ms); };
}

// ---- sign-in ----
function signIn(message) {
  const view = document.getElementById("view");
  const key = el("input", { name: "api-key", type: "password", autocomplete: "current-password", required: true });
  const form = el("form", { id: "sign-in", class: "card", onsubmit: async e => {
    e.preventDefault();
    sessionStorage.setItem("keel-api-key", key.value.trim());
    try { caller = await api.get("me"); } catch (err) { sessionStorage.removeItem("keel-api-key"); fill(note, true, err.message); return; }
    showCaller();
    render();
  } },
    el("h1", {}, "Sign in"),
    el("p", {}, message || "This Keel server needs an API key."),
    el("p", { class: "muted" }, "The key is kept in this tab only, until it closes."),
    labelled("API key", key),
    el("div", { class: "row" }, el("button", { class: "primary", type: "submit" }, "Sign in")));
  const note = el("p", { class: "error-text", role: "alert" });
  stopLive();
  fill(view, true, form, note);
  key.focus();
}

function showCaller() {
  const who = document.getElementById("who");
  fill(who, true, caller.keysRequired
    ? [`${caller.name || "shared key"} · ${caller.role.toLowerCase()} `,
       el("button", { class: "link", onclick: () => { sessionStorage.removeItem("keel-api-key"); caller = { role: "Viewer" }; signIn("Signed out."); } }, "Sign out")]
    : "");
}
