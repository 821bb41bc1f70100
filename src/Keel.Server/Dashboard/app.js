// The dashboard's routes: each page draws itself and returns the stop function of its live stream (or null).
"use strict";

let stopCurrent = null;
function stopLive() { if (stopCurrent) { stopCurrent(); stopCurrent = null; } }

const routes = [
  [/^#\/runs\/(.+)$/, "", (view, m) => renderRun(view, decodeURIComponent(m[1]))],
  [/^#\/inbox/, "inbox", view => renderInbox(view)],
  [/^#\/approvals/, "approvals", view => renderApprovals(view)],
  [/^#\/workers/, "workers", view => renderWorkers(view)],
  [/^#\/approve\/(.+)$/, "", (view, m) => renderApprovalLink(view, m[1])],
  [/^/, "runs", view => renderRuns(view)],
];

async function render() {
  stopLive();
  const view = document.getElementById("view");
  const hash = location.hash || "#/";
  const [pattern, nav, draw] = routes.find(([p]) => p.test(hash));
  const match = hash.match(pattern);
  // A reviewer's approval link works without a key and shows nothing else.
  const reviewer = hash.startsWith("#/approve/");
  document.body.classList.toggle("reviewer", reviewer);
  document.querySelectorAll("[data-nav]").forEach(a => {
    const current = a.dataset.nav === nav;
    a.classList.toggle("active", current);
    if (current) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  });
  try {
    if (!reviewer && nav !== "runs") api.get("inbox").then(i => showCounts(i.counts)).catch(() => { /* the page says what is wrong */ });
    stopCurrent = await draw(view, match);
  } catch (e) {
    if (e instanceof SignInNeeded) { signIn(e.message); return; }
    fill(view, true, el("div", { class: "card error", role: "alert" }, e.message));
  }
}

window.addEventListener("hashchange", () => { banner(""); render(); });

(async () => {
  if (!location.hash.startsWith("#/approve/")) {
    try { caller = await api.get("me"); showCaller(); }
    catch (e) { if (e instanceof SignInNeeded) { signIn(e.message); return; } }
  }
  await render();
})();
