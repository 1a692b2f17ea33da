// The explorer's shared state (S: the trace shown, the step, layer, direction, unit...) and the
// helpers every panel uses: number formats, probability bars, the tooltip, scrolling a diagram.

import { $, el, clear, markUnk } from "./lib.js";

export const CM = () => window.Colormaps;

export const S = {
  models: [], // from /api/models
  model: null, // name
  tr: null, // current /api/trace answer
  pos: 0, // current step
  layer: 0,
  dir: 0,
  playing: null, // interval id
  compare: {}, // name -> trace
  unit: 0,
  gen: null,
  genPick: -1,
  gradWord: null, // index of the word (of the text, no start token) whose loss is differentiated
  grads: null, // current /api/gradients/compare answer
};
window.explorerState = S; // for tests and the curious

export const fmt = (v, d = 4) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
export const pct = (p) => (100 * p).toFixed(p < 0.01 ? 2 : 1) + "%";

export const START = "⟨s⟩"; // the sentence-boundary step of next-word models
export const info = (name) => S.models.find((m) => m.name === name) || {};

// unknown tokens (the server's `unk` flags): mark a token node of a reply `r` at index t
export const levelOf = (r) => info(r.model).level || "word";
export const unkAt = (node, r, t, flags = r.unk) => markUnk(node, Boolean(flags && flags[t]), levelOf(r));
export const unkWord = (r) => (levelOf(r) === "char" ? "unknown character" : "unknown word");

// tooltip: any element with data-tip shows it on hover / focus
export function tipAt(target, x, y) {
  const t = $("tooltip");
  const tip = target && target.closest && target.closest("[data-tip]");
  if (!tip) { t.hidden = true; return; }
  t.textContent = tip.getAttribute("data-tip");
  t.hidden = false;
  const w = t.offsetWidth, h = t.offsetHeight;
  t.style.left = Math.min(window.innerWidth - w - 8, x + 12) + window.scrollX + "px";
  t.style.top = Math.max(4, y - h - 10) + window.scrollY + "px";
}
document.addEventListener("mousemove", (e) => tipAt(e.target, e.clientX, e.clientY));
document.addEventListener("focusin", (e) => {
  if (!e.target.closest || !e.target.closest("[data-tip]")) return;
  const r = e.target.getBoundingClientRect();
  tipAt(e.target, r.left, r.top);
});
document.addEventListener("focusout", () => { $("tooltip").hidden = true; });

export const hiddenOf = (tr, l = S.layer, d = S.dir) => tr.hidden[Math.min(l, tr.layers - 1)][Math.min(d, tr.directions - 1)];

// scroll a wide diagram so that the current step stays in view. Queued and done together in
// the next animation frame: reading a box's size right after a step's writes would force a
// layout per diagram; read together they cost one.
const pending = new Map();
export function keepVisible(svg, x, w) {
  const box = svg.closest(".scroll");
  if (!box) return;
  if (!pending.size) requestAnimationFrame(flushVisible);
  pending.set(box, [svg, x, w]);
}
function flushVisible() {
  const todo = [...pending];
  pending.clear();
  const read = todo.map(([box, [svg, x, w]]) => {
    const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute("width") || 1) || 1;
    return [box, x * scale, (x + w) * scale, box.scrollLeft, box.clientWidth];
  });
  for (const [box, a, b, left, width] of read) {
    if (a < left) box.scrollLeft = Math.max(0, a - 20);
    else if (b > left + width) box.scrollLeft = b - width + 20;
  }
}
export const sub = (t) => String(t + 1).split("").map((c) => "₀₁₂₃₄₅₆₇₈₉"[Number(c)]).join("");

// how a vocabulary entry is shown: the end-of-sentence token in words, not as raw "<eos>"
export const EOS = "<eos>";
export const showTok = (w) => (w === EOS ? "⟨end of sentence⟩" : w);

// the true word is highlighted whatever its case where the model reads words lower-cased
// ("The" is the vocabulary's "the"); `fold` says so
export function bars(box, top, highlight, fold = false) {
  clear(box);
  const mx = Math.max(...top.map((q) => q[1]), 1e-9);
  const key = (w) => (fold && typeof w === "string" ? w.toLowerCase() : w);
  for (const [w, p] of top) {
    box.append(el("div", { class: "barrow" + (highlight !== null && key(w) === key(highlight) ? " hit" : ""), "data-word": w, "data-p": p },
      el("span", { class: "w", text: showTok(w) }),
      el("span", { class: "track" }, el("span", { class: "fill", style: `width:${(100 * p) / mx}%` })),
      el("span", { class: "p", text: pct(p) })));
  }
}
