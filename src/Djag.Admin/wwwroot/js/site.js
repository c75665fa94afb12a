// Small enhancements of server-rendered pages; every page works without them.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  // JSON fields: say at once whether the text parses and has the right shape; the server checks again.
  for (const area of document.querySelectorAll("textarea.json")) {
    const status = area.parentElement.querySelector(".json-status");
    const check = () => {
      const expected = area.dataset.json;
      let message = "";
      try {
        const value = JSON.parse(area.value || (expected === "array" ? "[]" : "{}"));
        const kind = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
        if (expected === "array" && kind !== "array") message = "must be a JSON array, e.g. [1, \"a\"]";
        if (expected === "object" && kind !== "object") message = "must be a JSON object, e.g. {\"key\": \"value\"}";
      } catch (e) {
        message = "not valid JSON: " + e.message;
      }
      area.classList.toggle("invalid", message !== "");
      area.setCustomValidity(message);
      if (status) status.textContent = message === "" ? "✓ valid JSON" : "✗ " + message;
    };
    area.addEventListener("input", check);
    check();
    const format = document.createElement("button");
    format.type = "button";
    format.className = "small";
    format.textContent = "Format";
    format.addEventListener("click", () => {
      try {
        area.value = JSON.stringify(JSON.parse(area.value), null, 2);
        check();
      } catch {
        check();
      }
    });
    area.insertAdjacentElement("afterend", format);
  }

  // "Select all" in list headers.
  for (const all of document.querySelectorAll("input.select-all")) {
    all.addEventListener("change", () => {
      for (const box of all.closest("table").querySelectorAll("tbody input[type=checkbox][name=selected]")) {
        box.checked = all.checked;
      }
    });
  }

  // Destructive buttons ask first.
  for (const button of document.querySelectorAll("[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
});
