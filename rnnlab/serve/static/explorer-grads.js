// Gradients through time (/api/gradients: ‖∂loss/∂h_t‖ per step, two models compared) and
// sampling (/api/generate: the words one by one, with the distribution each came from).

import { $, el, api, clear, svg as svgEl } from "./lib.js";
import { CM, S, fmt, pct, info, bars, unkAt, unkWord } from "./explorer-core.js";

// ---- gradients ---------------------------------------------------------------------------

export const LONG = "The cat that my grandmother found in the garden last summer when it was raining sat on the";
export const PRESETS = ["The cat sat on the mat", "I love eating", "She went to the", "The boys near the door are happy", "Mary said that she was tired"];

export async function runGrads() {
  const text = $("grad-text").value || $("text").value;
  const names = [$("grad-a").value, $("grad-b").value];
  const box = clear($("grads"));
  box.append(el("p", { class: "hint", text: "Computing ∂loss/∂h_t through time…" }));
  const seq = (S.gradSeq = (S.gradSeq || 0) + 1);
  let res;
  try {
    res = await Promise.all(names.map((n) => {
      const causal = info(n).causal;
      const body = { model: n, text };
      if (S.gradTarget !== null) body.position = causal ? S.gradTarget - 1 : S.gradTarget;
      return api("/api/gradients", body);
    }));
  } catch (e) {
    if (seq === S.gradSeq) clear(box).append(el("p", { class: "error", role: "alert", text: e.message }));
    return;
  }
  if (seq !== S.gradSeq) return;
  clear(box);
  renderGradPick(res[0]);
  // one y-range for both panels, so heights compare
  let lo = Infinity, hi = -Infinity;
  const series = res.map((r) => {
    const T = r.tokens.length;
    const v = [];
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (const dd of r.norms[0]) s += dd[t] * dd[t]; // first layer, all directions
      v.push(Math.sqrt(s));
    }
    for (const x of v) if (x > 0) { lo = Math.min(lo, Math.log10(x)); hi = Math.max(hi, Math.log10(x)); }
    return v;
  });
  lo = Math.floor(lo); hi = Math.ceil(hi);
  if (!isFinite(lo)) { lo = -8; hi = 0; }
  if (hi === lo) hi = lo + 1;
  res.forEach((r, i) => box.append(gradPanel(r, series[i], lo, hi)));
}

export function renderGradPick(r) {
  const box = clear($("grad-pick"));
  const first = r.causal ? 1 : 0;
  r.tokens.forEach((w, j) => {
    if (j < first) return;
    box.append(unkAt(el("button", { type: "button", class: "tok" + (j === r.target_index ? " picked" : ""), "aria-pressed": j === r.target_index ? "true" : "false", text: w, onclick: () => { S.gradTarget = j; runGrads(); } }), r, j));
  });
}

export function gradPanel(r, v, lo, hi) {
  const T = r.tokens.length;
  const cw = Math.max(24, Math.min(56, 600 / T)), left = 46, top = 14, h = 170;
  const W = left + T * cw + 10, H = top + h + 60;
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "grad", role: "img", "aria-label": `gradient norms, ${r.label}` });
  const y = (x) => top + h - (h * (Math.log10(x) - lo)) / (hi - lo);
  for (let e = lo; e <= hi; e++) {
    svg.append(svgEl("line", { x1: left, y1: y(10 ** e), x2: W - 10, y2: y(10 ** e), class: "gridline" }));
    svg.append(svgEl("text", { x: left - 4, y: y(10 ** e) + 4, "text-anchor": "end", class: "small", text: `1e${e}` }));
  }
  v.forEach((x, t) => {
    const bx = left + t * cw + 3;
    const tgt = t === r.target_index;
    if (x > 0) {
      const yy = Math.max(top, y(x));
      svg.append(svgEl("rect", { x: bx, y: yy, width: cw - 6, height: top + h - yy, class: "gbar", fill: CM().viridis((Math.log10(x) - lo) / (hi - lo)), "data-t": t, "data-g": x, "data-tip": `‖∂loss/∂h‖ at step ${t + 1} (“${r.tokens[t]}”) = ${x.toExponential(2)}` }));
    }
    svg.append(unkAt(svgEl("text", { x: bx + cw / 2, y: top + h + 14, "text-anchor": "end", transform: `rotate(-40 ${bx + cw / 2} ${top + h + 14})`, class: "small" + (tgt ? " cur" : ""), text: r.tokens[t] }), r, t));
  });
  const first = v.find((x) => x > 0), lastIdx = r.causal ? r.position : r.position;
  const ratio = first && v[lastIdx] ? v[lastIdx] / first : null;
  return el("figure", { class: "gradfig", "data-model": r.model },
    el("figcaption", {}, el("b", { text: r.label }), ` · loss at “${r.target}” = ${fmt(r.loss, 2)} nats` + (r.target_unk ? ` (an ${unkWord(r)}: the loss of predicting <unk>, not “${r.target}”)` : "") + (ratio ? ` · last/first step ratio ${ratio.toExponential(1)}` : "")),
    el("div", { class: "scroll" }, svg));
}

// ---- generate ----------------------------------------------------------------------------

export async function runGenerate() {
  const box = clear($("gen-out"));
  clear($("gen-dist"));
  try {
    S.gen = await api("/api/generate", { model: $("gen-model").value, prompt: $("gen-prompt").value, length: 15, temperature: Number($("temp").value), k: 6 });
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
    box.append(el("button", { type: "button", class: "tok gen", "data-i": i, "data-tip": `p = ${pct(s.p)}`, text: s.token, onclick: () => showGenStep(i) }));
    showGenStep(i);
    if (i === gen.steps.length - 1) box.dataset.done = "1";
  }, 180 * i));
}
export function showGenStep(i) {
  S.genPick = i;
  const s = S.gen.steps[i];
  for (const b of $("gen-out").querySelectorAll("button")) b.setAttribute("aria-pressed", Number(b.dataset.i) === i ? "true" : "false");
  const box = $("gen-dist");
  bars(box, s.top, s.token);
  box.prepend(el("p", { class: "small", text: `Distribution when “${s.token}” was sampled (temperature ${S.gen.temperature}):` }));
}
