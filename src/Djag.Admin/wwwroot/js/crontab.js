// Live preview of a crontab's next fire times: the server computes them (the same CronSchedule the beat
// uses) and answers with an HTML fragment, fetched as the fields change.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("crontab-form");
  const target = document.getElementById("cron-preview");
  if (!form || !target) return;
  let timer = 0;
  let latest = 0;

  const refresh = async () => {
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("input.cron")) {
      query.set(input.dataset.param, input.value);
    }
    const request = ++latest;
    const response = await fetch(form.dataset.previewUrl + "&" + query.toString(), { credentials: "same-origin" });
    if (request !== latest || !response.ok) return; // a newer request is on its way, or the session ended
    target.innerHTML = await response.text();
    target.dataset.updated = String(request);
  };

  for (const input of form.querySelectorAll("input.cron")) {
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(refresh, 250);
    });
  }
});
