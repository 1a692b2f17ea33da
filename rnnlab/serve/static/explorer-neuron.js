// One unit: its value over this sentence and the held-out tokens that drive it most and least
// (/api/neuron); and the model card (/api/models/{name}: architecture, data, training curve).

import { $, el, api, clear, markUnk, svg as svgEl } from "./lib.js";
import { CM, S, fmt, hiddenOf, levelOf, unkAt } from "./explorer-core.js";
import { renderStep } from "./explorer.js";

// ---- neuron ------------------------------------------------------------------------------

export function selectUnit(u) {
  S.unit = u;
  $("unit").value = u;
  renderStep();
  loadNeuron();
}
export function renderNeuronText() {
  const box = clear($("neuron-text"));
  const h = hiddenOf(S.tr);
  const u = Math.min(S.unit, h[0].length - 1);
  box.append(el("p", { class: "small", text: `Unit ${u} (layer ${S.layer + 1}${S.tr.directions > 1 ? (S.dir ? ", backward" : ", forward") : ""}) over this sentence:` }));
  const line = el("p", { class: "colored" });
  S.tr.tokens.forEach((w, t) => {
    const v = h[t][u];
    // an unknown token keeps its colour (the unit's value is real) and gets the dashed outline
    const span = el("span", { class: "ctok", tabindex: 0, style: `background:${CM().diverging(v, 1)};color:${CM().inkOnDiverging(v, 1)}`, "data-v": v, "data-tip": `unit ${u} after “${w}” = ${fmt(v)}`, text: w });
    line.append(unkAt(span, S.tr, t), " ");
  });
  box.append(line);
}
export async function loadNeuron() {
  if (!S.tr) return;
  const box = clear($("neuron"));
  let d;
  try {
    d = await api("/api/neuron", { model: S.model, layer: S.layer, direction: S.dir, unit: S.unit, k: 10 });
  } catch (e) {
    box.append(el("p", { class: "error", text: e.message }));
    return;
  }
  if (d.note) { box.append(el("p", { class: "hint", text: d.note })); return; }
  const list = (title, rows) => el("div", {}, el("h4", { text: title }), el("ol", { class: "ctx" }, rows.map((r) => el("li", {}, el("span", { class: "before", text: r.before + " " }), markUnk(el("mark", { style: `background:${CM().diverging(r.value, 1)};color:${CM().inkOnDiverging(r.value, 1)}`, text: r.token }), r.unk, levelOf(d)), el("span", { class: "small", text: ` ${fmt(r.value, 3)}` })))));
  box.append(el("div", { class: "two" }, list("Excites it most (held-out text)", d.top), list("Drives it lowest", d.bottom)));
}

// ---- model card --------------------------------------------------------------------------

export async function loadCard() {
  let c;
  try { c = await api(`/api/models/${encodeURIComponent(S.model)}`); } catch (e) { return; }
  const rows = [
    ["Architecture", `${c.label}: embedding → ${c.layers} × ${c.cell.toUpperCase()} layer${c.layers > 1 ? "s" : ""}${c.directions > 1 ? " (bidirectional)" : ""} of ${c.hidden_size} units → softmax over ${c.vocab_size.toLocaleString()} ${c.level === "char" ? "characters" : "words"}`],
    ["Task", c.causal ? "next-word prediction (language model)" : "fill in the blank: each word from the words before and after it"],
    ["Parameters", c.params.toLocaleString()],
    ["Training data", c.data || "–"],
    ["Validation perplexity", c.val_ppl === null ? "–" : `${c.val_ppl.toFixed(2)} (as unsure as a fair choice among ${c.val_ppl.toFixed(0)} words)`],
  ];
  const tb = el("table", { class: "kv" }, rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))));
  clear($("model-card")).append(tb);
  drawCurve(c.curve);
}
export function drawCurve(curve) {
  const svg = clear($("curve"));
  const W = 420, H = 200, left = 40, top = 10, bottom = 30;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const all = [...curve.train, ...curve.val];
  if (!all.length) { svg.append(svgEl("text", { x: 10, y: 30, class: "small", text: "no training log for this model" })); return; }
  const xmax = Math.max(...all.map((q) => q[0]), 1);
  const ymin = Math.min(...all.map((q) => q[1])), ymax = Math.max(...all.map((q) => q[1]));
  const sx = (x) => left + ((W - left - 10) * x) / xmax;
  const sy = (y) => top + (H - top - bottom) * (1 - (y - ymin) / (ymax - ymin || 1));
  svg.append(svgEl("line", { x1: left, y1: H - bottom, x2: W - 10, y2: H - bottom, class: "axis" }));
  svg.append(svgEl("text", { x: W - 10, y: H - 8, "text-anchor": "end", class: "small", text: `step (max ${xmax})` }));
  svg.append(svgEl("text", { x: left - 4, y: sy(ymax) + 4, "text-anchor": "end", class: "small", text: ymax.toFixed(1) }));
  svg.append(svgEl("text", { x: left - 4, y: sy(ymin) + 4, "text-anchor": "end", class: "small", text: ymin.toFixed(1) }));
  if (curve.train.length) svg.append(svgEl("polyline", { points: curve.train.map((q) => `${sx(q[0])},${sy(q[1])}`).join(" "), class: "traj train" }));
  if (curve.val.length) svg.append(svgEl("polyline", { points: curve.val.map((q) => `${sx(q[0])},${sy(q[1])}`).join(" "), class: "traj val" }));
  curve.val.forEach((q) => svg.append(svgEl("circle", { cx: sx(q[0]), cy: sy(q[1]), r: 3, class: "pt val", "data-tip": `step ${q[0]}: val loss ${q[1]}` })));
  svg.append(svgEl("text", { x: left + 10, y: top + 12, class: "small legend-train", text: "— train" }));
  svg.append(svgEl("text", { x: left + 70, y: top + 12, class: "small legend-val", text: "— validation" }));
}
