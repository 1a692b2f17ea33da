// Gradients through time (/api/gradients/compare: ‖∂loss/∂h_t‖ per step relative to the target
// step, two models compared, with the server's verdict in words) and
// sampling (/api/generate: the words one by one, with the distribution each came from).

import { $, el, api, clear, svg as svgEl } from "./lib.js";
import { CM, S, fmt, pct, info, bars, showTok, unkAt, unkWord } from "./explorer-core.js";

// ---- gradients ---------------------------------------------------------------------------

export const LONG = "The cat that my grandmother found in the garden last summer when it was raining sat on the";
export const PRESETS = ["The cat sat on the bed", "I love eating", "She went to the", "The boys near the door are happy", "Mary said that she was tired"];
// a line of the recall task (rnnlab.data.synthetic.recall_lines(1, 7, min_gap=30, max_gap=30)):
// the last word is the key, 32 words back
export const RECALL = "remember pepper blue cat door small hat hat big car cup fast slow happy cat sad book tree house new warm tree hat house big slow cold fast book cat small big recall pepper";

export async function runGrads() {
  const text = $("grad-text").value || $("text").value;
  const box = clear($("grads"));
  const verdict = clear($("grad-verdict"));
  box.append(el("p", { class: "hint", text: "Computing ∂loss/∂h_t through time…" }));
  const seq = (S.gradSeq = (S.gradSeq || 0) + 1);
  let res;
  try {
    res = await api("/api/gradients/compare", { models: [$("grad-a").value, $("grad-b").value], text, word: S.gradWord });
  } catch (e) {
    if (seq === S.gradSeq) clear(box).append(el("p", { class: "error", role: "alert", text: e.message }));
    return;
  }
  if (seq !== S.gradSeq) return;
  clear(box);
  S.grads = res;
  renderGradPick(res.panels[0]);
  // one log range for both panels (relative sizes: the target step is 1 = 1e0 in each)
  let lo = 0, hi = 0;
  for (const r of res.panels) for (const x of [...r.relative, ...(r.cell_relative || [])]) {
    if (x > 0) { lo = Math.min(lo, Math.floor(Math.log10(x))); hi = Math.max(hi, Math.ceil(Math.log10(x))); }
  }
  if (hi === lo) hi = lo + 1;
  res.panels.forEach((r) => box.append(gradPanel(r, lo, hi)));
  verdict.textContent = res.verdict.text; // built on the server from the numbers drawn here
}

export function renderGradPick(r) {
  const box = clear($("grad-pick"));
  r.tokens.forEach((w, j) => {
    if (j < r.offset) return; // the start token is not a word of the text
    const on = j === r.target_index;
    box.append(unkAt(el("button", { type: "button", class: "tok" + (on ? " picked" : ""), "aria-pressed": on ? "true" : "false", text: w, onclick: () => { S.gradWord = j - r.offset; runGrads(); } }), r, j));
  });
}

export function gradPanel(r, lo, hi) {
  const T = r.tokens.length;
  const cw = Math.max(14, Math.min(56, 600 / T)), left = 46, top = 14, h = 170;
  const W = left + T * cw + 10, H = top + h + 60;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "grad", role: "img", "aria-label": `relative gradient sizes, ${r.label}` });
  const y = (x) => top + h - (h * (Math.log10(x) - lo)) / (hi - lo);
  for (let e = lo; e <= hi; e++) {
    svg.append(svgEl("line", { x1: left, y1: y(10 ** e), x2: W - 10, y2: y(10 ** e), class: "gridline" }));
    svg.append(svgEl("text", { x: left - 4, y: y(10 ** e) + 4, "text-anchor": "end", class: "small", text: `1e${e}` }));
  }
  r.relative.forEach((x, t) => {
    const bx = left + t * cw + 2;
    if (x > 0) {
      const yy = Math.max(top, y(x));
      svg.append(svgEl("rect", { x: bx, y: yy, width: cw - 4, height: top + h - yy, class: "gbar", fill: CM().viridis((Math.log10(x) - lo) / (hi - lo)), "data-t": t, "data-g": x, "data-abs": r.series[t], "data-tip": `‖∂L/∂h‖ after “${r.tokens[t]}” = ${x.toExponential(2)} × its size at the target (${r.series[t].toExponential(2)})` }));
    }
    svg.append(unkAt(svgEl("text", { x: bx + cw / 2, y: top + h + 14, "text-anchor": "end", transform: `rotate(-40 ${bx + cw / 2} ${top + h + 14})`, class: "small" + (t === r.target_index ? " cur" : ""), text: r.tokens[t] }), r, t));
  });
  (r.cell_relative || []).forEach((x, t) => {
    if (x > 0) svg.append(svgEl("circle", { cx: left + t * cw + cw / 2, cy: Math.max(top, y(x)), r: 3.5, class: "gcell", "data-t": t, "data-g": x, "data-tip": `‖∂L/∂c‖ (cell state) after “${r.tokens[t]}” = ${x.toExponential(2)} × its size at the target` }));
  });
  const legend = r.cell_relative ? " · bars ‖∂L/∂h‖, dots ‖∂L/∂c‖ (cell state)" : "";
  return el("figure", { class: "gradfig", "data-model": r.model },
    el("figcaption", {}, el("b", { text: r.label }), ` · loss at “${r.target}” = ${fmt(r.loss / Math.LN2, 2)} bits` + (r.target_unk ? ` (an ${unkWord(r)}: the loss of predicting <unk>, not “${r.target}”)` : "") + legend),
    el("div", { class: "scroll" }, svg));
}

// ---- generate ----------------------------------------------------------------------------

export async function runGenerate() {
  const box = clear($("gen-out"));
  clear($("gen-dist"));
  try {
    const sentences = Number($("gen-sentences").value);
    S.gen = await api("/api/generate", { model: $("gen-model").value, prompt: $("gen-prompt").value, length: sentences === 1 ? 15 : Math.min(100, 25 * sentences), sentences, temperature: Number($("temp").value), k: 6 });
  } catch (e) {
    box.append(el("p", { class: "error", role: "alert", text: e.message }));
    return;
  }
  // the prompt word by word, so that a word the model reads as unknown is marked
  const prompt = el("span", { class: "prompt" });
  S.gen.prompt_tokens.forEach((w, t) => {
    if (w === "⟨s⟩") return;
    if (prompt.childNodes.length) prompt.append(" ");
    prompt.append(unkAt(el("span", { text: w }), S.gen, t, S.gen.prompt_unk));
  });
  box.append(prompt);
  box.dataset.done = "0";
  const gen = S.gen;
  // reveal the words one by one, as the model produced them
  gen.steps.forEach((s, i) => setTimeout(() => {
    if (S.gen !== gen) return;
    box.append(el("button", { type: "button", class: "tok gen", "data-i": i, "data-tip": `p = ${pct(s.p)}`, text: showTok(s.token), onclick: () => showGenStep(i) }));
    showGenStep(i);
    if (i === gen.steps.length - 1) box.dataset.done = "1";
  }, 180 * i));
}
// the temperature slider reshapes, live, the distribution of the first word after the prompt
export function liveTemperature() {
  $("temp-out").textContent = $("temp").value;
  clearTimeout(S.tempTimer);
  S.tempTimer = setTimeout(async () => {
    const t = Number($("temp").value);
    let d;
    try { d = await api("/api/predict", { model: $("gen-model").value, text: $("gen-prompt").value, temperature: t, k: 6 }); } catch (e) { return; }
    if (Number($("temp").value) !== t) return; // the slider moved on
    const box = $("gen-dist");
    bars(box, d.top, null);
    box.prepend(el("p", { class: "small", id: "gen-live", text: `The first word after the prompt at temperature ${t} (the slider reshapes these bars):` }));
  }, 120);
}

export function showGenStep(i) {
  S.genPick = i;
  const s = S.gen.steps[i];
  for (const b of $("gen-out").querySelectorAll("button")) b.setAttribute("aria-pressed", Number(b.dataset.i) === i ? "true" : "false");
  const box = $("gen-dist");
  bars(box, s.top, s.token);
  box.prepend(el("p", { class: "small", text: `Distribution when “${s.token}” was sampled (temperature ${S.gen.temperature}):` }));
}
