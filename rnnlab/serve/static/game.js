// The RNN Game: Beat the RNN (game-beat.js), the memory challenge (game-memory.js) and "be the
// hidden state" (game-hidden.js); this module switches the tabs and starts the page.
// Everything is computed by the server (/api/game/...); the token to guess is only ever
// sent after the guess for it is committed, so this page cannot peek even if it wanted to.

import { $ } from "./lib.js";
import { loadModels, renderHighScores } from "./game-beat.js";
import { memory, loadMemory } from "./game-memory.js";
import "./game-hidden.js"; // its controls wire themselves

// ---------------------------------------------------------------- tabs
export const tabs = ["beat", "memory", "hidden"];
export function selectTab(name) {
  for (const t of tabs) {
    const on = t === name;
    $("tab-" + t).setAttribute("aria-selected", String(on));
    $("tab-" + t).tabIndex = on ? 0 : -1;
    $("panel-" + t).hidden = !on;
  }
  if (name === "memory" && !memory.loaded) loadMemory();
  if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
}
for (const t of tabs) $("tab-" + t).addEventListener("click", () => selectTab(t));
$("tab-beat").parentElement.addEventListener("keydown", (e) => {
  if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
  const i = tabs.findIndex((t) => $("tab-" + t).getAttribute("aria-selected") === "true");
  const j = (i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length;
  selectTab(tabs[j]);
  $("tab-" + tabs[j]).focus();
});

// ---------------------------------------------------------------- start
renderHighScores();
loadModels();
export const fromHash = () => {
  const h = location.hash.slice(1);
  selectTab(tabs.includes(h) ? h : "beat");
};
window.addEventListener("hashchange", fromHash);
fromHash();
