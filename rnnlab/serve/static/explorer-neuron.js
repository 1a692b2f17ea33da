// One unit: its value over this sentence and the held-out tokens that drive it most and least
// (/api/neuron).

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
