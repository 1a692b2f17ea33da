// What the model expects: the top predictions at the current step, the surprise curve, and
// every served model reading the same text side by side (/api/trace for each).

import { $, el, api, clear, svg as svgEl, unkTip } from "./lib.js";
import { CM, S, fmt, pct, info, START, bars, keepVisible, levelOf, showTok, unkAt, unkWord } from "./explorer-core.js";
import { drawHeatmap, moveHeatmap } from "./explorer-heat.js";

// what a step's target tells: an unknown target's p is that of <unk>, not a surprise at the word
export const targetText = (r, s) => (s.target_unk
  ? `“${s.target}”: ${unkWord(r)} (${unkTip(levelOf(r))}; p(<unk>) = ${pct(s.p)})`
  : `“${s.target}”: p = ${pct(s.p)}, surprise = ${fmt(s.bits, 2)} bits`);

// the mean surprise as the numbers have it: over known targets, naming what was left out
export function meanText(r) {
  const u = r.unk_targets, what = levelOf(r) === "char" ? "character" : "word";
  const base = `mean surprise ${fmt(r.mean_bits, 2)} bits/${what}`;
  if (!u) return base;
  return `${base} over the known ${what}s (${u} ${unkWord(r)}${u > 1 ? "s" : ""} left out; ${fmt(r.mean_bits_all, 2)} with ${u > 1 ? "them" : "it"})`;
}

export function renderPred() {
  const s = S.tr.steps[S.pos];
  const read = S.tr.unk[S.pos] ? ` (read as ${levelOf(S.tr) === "char" ? "the unknown character" : "<unk>"})` : "";
  $("pred-explain").textContent = S.tr.causal
    ? `After reading “${S.tr.tokens[S.pos]}”${read} the model expects next:`
    : `The bidirectional model fills in the word at this step from the words on both sides (it never sees the word itself):`;
  bars($("bars"), s.top, s.target, levelOf(S.tr) === "word");
  $("target").textContent = s.target === null
    ? "(end of the text: nothing came next)"
    : `${S.tr.causal ? "Next word" : "The word there"} was ${targetText(S.tr, s)}.`;
}

// The surprise curve: drawn once per text (every step), a veil hides the steps not read yet;
// a step moves the veil and the current mark and scrolls the chart to follow it.
export function drawSurprise() {
  const svg = clear($("surprise"));
  const st = S.tr.steps, T = st.length;
  const cw = Math.max(30, Math.min(60, 560 / T)), left = 34, top = 10, h = 120;
  const W = left + T * cw + 10, H = top + h + 50;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  // an unknown target's bits are not a surprise at the word: off the scale and off the line
  const known = (s) => s.bits !== null && !s.target_unk;
  const mx = Math.max(4, ...st.map((s) => (known(s) ? s.bits : 0)));
  const y = (b) => top + h - (h * b) / mx;
  for (const b of [0, Math.round(mx / 2), Math.floor(mx)]) {
    svg.append(svgEl("line", { x1: left, y1: y(b), x2: W - 10, y2: y(b), class: "gridline" }));
    svg.append(svgEl("text", { x: left - 4, y: y(b) + 4, "text-anchor": "end", class: "small", text: b }));
  }
  // the line breaks at an unknown target rather than bridging it
  const runs = [[]], tflags = st.map((s) => s.target_unk);
  st.forEach((s, t) => {
    if (s.target_unk) { runs.push([]); return; }
    if (known(s)) runs[runs.length - 1].push(`${left + t * cw + cw / 2},${y(s.bits)}`);
  });
  for (const pts of runs) if (pts.length) svg.append(svgEl("polyline", { points: pts.join(" "), class: "traj" }));
  const labels = [], marks = [];
  st.forEach((s, t) => {
    const x = left + t * cw + cw / 2;
    labels.push(s.target === null ? null : svg.appendChild(unkAt(svgEl("text", { x, y: top + h + 14, "text-anchor": "end", transform: `rotate(-35 ${x} ${top + h + 14})`, class: "small", text: showTok(s.target) }), S.tr, t, tflags)));
    if (s.bits === null) { marks.push(null); return; }
    if (s.target_unk) {
      // a hollow dashed mark on the baseline, labelled, instead of a spike
      marks.push(svg.appendChild(svgEl("circle", { cx: x, cy: y(0), r: 4, class: "pt unk-target", "data-tip": targetText(S.tr, s) })));
      svg.append(svgEl("text", { x, y: y(0) - 8, "text-anchor": "middle", class: "small unk-label", text: "?" }));
      return;
    }
    marks.push(svg.appendChild(svgEl("circle", { cx: x, cy: y(s.bits), r: 4, class: "pt", fill: CM().viridis(1 - Math.min(1, s.bits / mx)), "data-tip": targetText(S.tr, s) })));
  });
  const veil = svgEl("rect", { class: "veil", y: 0, height: top + h + 4, fill: "#fff" });
  svg.append(veil);
  S.surprise = { left, cw, T, veil, labels, marks, cur: -1 };
  const u = S.tr.unk_targets;
  $("surprise-note").textContent = meanText(S.tr) + (u ? `; “?” on the baseline: ${u > 1 ? "targets" : "a target"} the model reads as unknown (its surprise there is not shown)` : "") + ".";
}

export function moveSurprise() {
  const v = S.surprise;
  if (!v) return;
  v.veil.setAttribute("x", v.left + (S.pos + 1) * v.cw);
  v.veil.setAttribute("width", Math.max(0, (v.T - 1 - S.pos) * v.cw + 10));
  if (v.cur !== S.pos) {
    for (const t of [v.cur, S.pos]) {
      if (t < 0) continue;
      const on = t === S.pos;
      if (v.labels[t]) v.labels[t].classList.toggle("cur", on);
      if (v.marks[t]) { v.marks[t].classList.toggle("cur", on); v.marks[t].setAttribute("r", on ? 6 : 4); }
    }
    v.cur = S.pos;
  }
  keepVisible($("surprise"), v.left + S.pos * v.cw, v.cw);
}

// ---- compare ----------------------------------------------------------------------------

// the models read side by side: those of the current model's group (words, chars, recall)
const peers = () => S.models.filter((m) => (m.group || "words") === (info(S.model).group || "words"));

export async function runCompare(text) {
  S.compare = {};
  S.cmpCols = [];
  const seq = (S.cmpSeq = (S.cmpSeq || 0) + 1);
  const box = clear($("compare"));
  box.append(el("p", { class: "hint", text: "Reading with every model…" }));
  const res = await Promise.all(peers().map((m) => api("/api/trace", { model: m.name, text, k: 3 }).catch((e) => ({ error: e.message, model: m.name, label: m.label }))));
  if (seq !== S.cmpSeq) return;
  for (const r of res) S.compare[r.model] = r;
  renderCompare();
}

// the columns are built once per text (and when the replies arrive); a step moves each
// column's mini heatmap and refills its bars
export function renderCompare() {
  const box = clear($("compare"));
  S.cmpCols = [];
  for (const m of peers()) {
    const tr = S.compare[m.name];
    const col = el("div", { class: "cmp" + (m.name === S.model ? " current" : ""), "data-model": m.name });
    col.append(el("h3", { text: m.label }));
    box.append(col);
    if (!tr) { col.append(el("p", { class: "hint", text: "…" })); continue; }
    if (tr.error) { col.append(el("p", { class: "error", text: tr.error })); continue; }
    const hv = tr.hidden[tr.layers - 1][0]; // the top layer feeds the prediction
    const T = hv.length, H = hv[0].length;
    const heat = el("div", { class: "heat mini", role: "img", "aria-label": `${m.label} hidden state` });
    col.append(el("div", { class: "scroll" }, heat));
    drawHeatmap(heat, hv, { mode: "hidden", noLabels: true, noLegend: true, left: 0, cw: Math.max(6, Math.min(18, 200 / T)), rowH: H > 64 ? 1.5 : 3 });
    const after = el("p", { class: "small" }), bx = el("div", { class: "bars small" }), pw = el("p", { class: "small" });
    col.append(after, bx, pw, el("p", { class: "small", text: `${meanText(tr)} · ${tr.params.toLocaleString()} params` }));
    S.cmpCols.push({ tr, heat, after, bx, pw });
  }
  moveCompare();
}

export function moveCompare() {
  for (const c of S.cmpCols || []) {
    const tr = c.tr;
    // align on the same word: next-word models start with a ⟨s⟩ step, a fill-in model does not
    const shift = (tr.tokens[0] === START ? 1 : 0) - (S.tr.tokens[0] === START ? 1 : 0);
    const p = Math.max(0, Math.min(S.pos + shift, tr.tokens.length - 1));
    moveHeatmap(c.heat, p, Infinity);
    const s = tr.steps[p];
    c.after.textContent = tr.causal ? `after “${tr.tokens[p]}”, next:` : `word at “${tr.tokens[p]}” from both sides:`;
    bars(c.bx, s.top, s.target, levelOf(tr) === "word");
    c.pw.textContent = s.target === null ? "" : s.target_unk ? `“${s.target}”: ${unkWord(tr)}` : `p(“${s.target}”) = ${pct(s.p)}`;
  }
}
