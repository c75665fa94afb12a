// Polls a backfill's progress until none of its runs is queued or running.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const panel = document.getElementById("backfill-progress");
  if (!panel) return;
  const set = (id, value) => { document.getElementById(id).textContent = String(value); };
  const poll = async () => {
    const response = await fetch(panel.dataset.progressUrl, { credentials: "same-origin" });
    if (!response.ok) return;
    const p = await response.json();
    const bar = document.getElementById("backfill-bar");
    bar.max = Math.max(p.total, 1);
    bar.value = p.finished;
    set("bf-total", p.total);
    set("bf-finished", p.finished);
    set("bf-succeeded", p.succeeded);
    set("bf-failed", p.failed);
    set("bf-running", p.running);
    set("bf-queued", p.queued);
    if (p.queued + p.running > 0) setTimeout(poll, 2000);
  };
  poll();
});
