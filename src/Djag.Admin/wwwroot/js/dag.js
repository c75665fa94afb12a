// Lays out the DAG with Graphviz (viz.js, WebAssembly) from the DOT the server writes (DagView.ToDot):
// node colours by state, future edges dashed, and each node a link to its task (Graphviz URL attributes).
import { instance } from "/lib/viz-js/viz.js";

const container = document.getElementById("dag");
if (container && !container.querySelector(".empty")) {
  try {
    const [viz, response] = await Promise.all([instance(), fetch(container.dataset.dotUrl, { credentials: "same-origin" })]);
    if (!response.ok) throw new Error("the server answered " + response.status);
    const svg = viz.renderSVGElement(await response.text());
    svg.classList.add("dag-svg");
    svg.id = "dag-svg";
    container.replaceChildren(svg);
  } catch (e) {
    const message = document.createElement("p");
    message.className = "errors";
    message.textContent = "The graph could not be drawn: " + e.message + ". The table below lists its edges.";
    container.replaceChildren(message);
  }
}
