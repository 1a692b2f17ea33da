// The reading panels: the unrolled network, the hidden-state heatmap, its step-to-step change,
// the PCA trajectory and the gates (all from one /api/trace answer, up to the current step).

import { $, el, clear, svg as svgEl } from "./lib.js";
import { CM, S, fmt, hiddenOf, keepVisible, sub, unkAt } from "./explorer-core.js";
import { selectUnit } from "./explorer-neuron.js";

// The unrolled network: one box per step, all drawn with the same weights (same colours).
export function renderUnrolled() {
  const svg = clear($("unrolled"));
  const tr = S.tr, T = tr.tokens.length, L = tr.layers, D = tr.directions;
  const cw = 92, rowH = 62, top = 40, left = 36;
  const rows = L * D;
  const H = top + rows * rowH + 70;
  const W = left + T * cw + 20;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  svg.append(svgEl("defs", {}, svgEl("marker", { id: "arr", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" }, svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }))));
  const yIn = top + rows * rowH + 30;
  const pred = tr.causal ? "predicts next" : "fills in";
  svg.append(svgEl("text", { x: 4, y: 12, class: "small", text: `top guess (${pred}):` }));
  for (let t = 0; t < T; t++) {
    const x = left + t * cw;
    const cur = t === S.pos, done = t <= S.pos;
    const g = svgEl("g", { class: "step" + (cur ? " current" : "") + (done ? " done" : "") });
    // input word
    g.append(unkAt(svgEl("text", { x: x + cw / 2 - 8, y: yIn + 18, "text-anchor": "middle", class: "word", text: tr.tokens[t] }), tr, t));
    // top prediction above
    const top1 = tr.steps[t].top[0];
    if (done) g.append(svgEl("text", { x: x + cw / 2 - 8, y: 30, "text-anchor": "middle", class: "small pred", text: top1 ? top1[0] : "" }));
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const r = rows - 1 - (l * D + d);
        const y = top + r * rowH;
        const bx = x + 8, bw = cw - 32, bh = rowH - 26;
        const hv = tr.hidden[l][d][t];
        const norm = Math.sqrt(hv.reduce((s, v) => s + v * v, 0) / hv.length);
        const level = Math.min(1, norm * 1.6);
        const fill = done ? CM().viridis(level) : "#eee";
        g.append(svgEl("rect", { x: bx, y: y + 10, width: bw, height: bh, rx: 6, fill, class: "cell" + (l === S.layer && d === S.dir ? " sel" : ""), "data-tip": `layer ${l + 1}${D > 1 ? (d ? " backward" : " forward") : ""}, step ${t + 1} (“${tr.tokens[t]}”): RMS of h = ${norm.toFixed(3)}` }));
        g.append(svgEl("text", { x: bx + bw / 2, y: y + 10 + bh / 2 + 4, "text-anchor": "middle", class: "cell-label" + (done && level < 0.5 ? " light" : ""), text: `h${sub(t)}` }));
        // recurrent arrow from the previous (forward) or next (backward) step: W_hh
        const from = d === 0 ? t - 1 : t + 1;
        if (from >= 0 && from < T) {
          const x0 = d === 0 ? bx - 32 : bx + bw + 32;
          const x1 = d === 0 ? bx : bx + bw;
          g.append(svgEl("line", { x1: x0, y1: y + 10 + bh / 2, x2: x1, y2: y + 10 + bh / 2, class: "w-hh", "marker-end": "url(#arr)", "data-tip": `W_hh: the same recurrent weights at every step` }));
        }
        // input arrow from below: W_xh (from the word for layer 1, from the layer below otherwise)
        g.append(svgEl("line", { x1: bx + bw / 2, y1: y + 10 + bh + (l === 0 && d === 0 ? yIn - (y + 10 + bh) - 4 : 24), x2: bx + bw / 2, y2: y + 10 + bh, class: "w-xh", "marker-end": "url(#arr)", "data-tip": l === 0 ? "W_xh: the same input weights at every step" : "input from the layer below (same weights at every step)" }));
      }
    }
    if (cur) g.append(svgEl("rect", { x: x + 2, y: 2, width: cw - 20, height: H - 4, rx: 8, class: "cursor" }));
    svg.append(g);
  }
  // name the shared weights once, on the first arrows
  const yMid = top + (rows - 1) * rowH + 10 + (rowH - 26) / 2;
  if (T > 1) svg.append(svgEl("text", { x: left + 84, y: yMid - 8, "text-anchor": "middle", class: "small whh-label", text: "W_hh" }));
  svg.append(svgEl("text", { x: left + (cw - 32) / 2 + 12, y: yIn - 8, class: "small wxh-label", text: "W_xh" }));
  keepVisible(svg, left + S.pos * cw, cw);
}

// ---- heatmaps ---------------------------------------------------------------------------

// units × steps; mode "hidden" (diverging, fixed ±1), "delta" (diverging, scaled), "gate" (viridis 0..1),
// "signed" (diverging, scaled by max |v|)
export function renderHeatmap(svg, mat, opt) {
  clear(svg);
  const T = mat.length, H = mat[0].length;
  const cw = Math.max(16, Math.min(44, 640 / T));
  const rh = opt.rowH || (H > 96 ? 3 : H > 48 ? 5 : 8);
  const left = 40, top = opt.noLabels ? 4 : 46;
  const W = left + T * cw + 60, Ht = top + H * rh + 8;
  svg.setAttribute("viewBox", `0 0 ${W} ${Ht}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", Ht);
  let max = 1;
  if (opt.mode === "delta" || opt.mode === "signed") {
    max = 1e-6;
    for (const row of mat) for (const v of row) max = Math.max(max, Math.abs(v));
  }
  const color = opt.mode === "gate" ? (v) => CM().viridis(v) : (v) => CM().diverging(v, max);
  if (!opt.noLabels) {
    S.tr.tokens.forEach((w, t) => {
      if (t >= T) return;
      svg.append(unkAt(svgEl("text", { x: left + t * cw + cw / 2, y: top - 6, class: "small tlabel" + (t === S.pos ? " cur" : ""), transform: `rotate(-40 ${left + t * cw + cw / 2} ${top - 6})`, text: w }), S.tr, t));
    });
  }
  svg.append(svgEl("text", { x: 2, y: top + 8, class: "small", text: "unit 0" }));
  svg.append(svgEl("text", { x: 2, y: top + H * rh, class: "small", text: String(H - 1) }));
  const g = svgEl("g", { class: "cells" });
  for (let t = 0; t < T; t++) {
    const shown = t <= S.pos;
    for (let u = 0; u < H; u++) {
      const v = mat[t][u];
      g.append(svgEl("rect", {
        x: left + t * cw, y: top + u * rh, width: cw - 1, height: rh,
        fill: shown ? color(v) : "#f1f1f1", "data-t": t, "data-u": u, "data-v": shown ? v : null,
        "data-tip": shown ? `${opt.name || "h"}: unit ${u}, step ${t + 1} (“${S.tr.tokens[t]}”) = ${fmt(v)}` : null,
      }));
    }
  }
  svg.append(g);
  // current-step outline and selected unit
  svg.append(svgEl("rect", { x: left + S.pos * cw - 1, y: top - 1, width: cw + 1, height: H * rh + 2, class: "cursor" }));
  if (S.unit < H) svg.append(svgEl("rect", { x: left - 4, y: top + S.unit * rh, width: T * cw + 6, height: rh, class: "unit-sel" }));
  keepVisible(svg, left + S.pos * cw, cw);
  g.addEventListener("click", (e) => {
    const u = e.target.getAttribute && e.target.getAttribute("data-u");
    if (u !== null && u !== undefined) selectUnit(Number(u));
  });
  // legend
  const lx = left + T * cw + 12;
  for (let i = 0; i <= 20; i++) {
    const f = 1 - i / 20;
    const v = opt.mode === "gate" ? f : (2 * f - 1) * max;
    svg.append(svgEl("rect", { x: lx, y: top + (i * H * rh) / 21, width: 10, height: (H * rh) / 21 + 0.5, fill: color(v) }));
  }
  const hi = opt.mode === "gate" ? "1" : fmt(max, max < 10 ? 2 : 0);
  const lo = opt.mode === "gate" ? "0" : "−" + fmt(max, max < 10 ? 2 : 0);
  svg.append(svgEl("text", { x: lx + 13, y: top + 8, class: "small", text: hi }));
  svg.append(svgEl("text", { x: lx + 13, y: top + H * rh, class: "small", text: lo }));
}

export function renderDelta() {
  const h = hiddenOf(S.tr);
  const d = h.map((row, t) => row.map((v, u) => v - (t > 0 ? h[t - 1][u] : 0)));
  const svg = $("delta");
  renderHeatmap(svg, d, { mode: "delta", name: "Δh" });
  // norm bars under the heatmap
  const norms = d.map((row) => Math.sqrt(row.reduce((s, v) => s + v * v, 0)));
  const vb = svg.getAttribute("viewBox").split(" ").map(Number);
  const T = h.length, cw = Math.max(16, Math.min(44, 640 / T)), left = 40;
  const bh = 40, y0 = vb[3] + 4, mx = Math.max(...norms, 1e-6);
  svg.setAttribute("viewBox", `0 0 ${vb[2]} ${vb[3] + bh + 10}`);
  svg.setAttribute("height", vb[3] + bh + 10);
  norms.forEach((n, t) => {
    if (t > S.pos) return;
    const hh = (bh * n) / mx;
    svg.append(svgEl("rect", { x: left + t * cw + 2, y: y0 + bh - hh, width: cw - 5, height: hh, class: "bar" + (t === S.pos ? " cur" : ""), "data-tip": `‖Δh‖ at step ${t + 1} (“${S.tr.tokens[t]}”) = ${n.toFixed(3)}` }));
  });
}

export function renderPCA() {
  const svg = clear($("pca"));
  const p = S.tr.pca[Math.min(S.layer, S.tr.layers - 1)][Math.min(S.dir, S.tr.directions - 1)];
  const pts = p.points;
  const W = 420, H = 300, pad = 30;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const xs = pts.map((q) => q[0]), ys = pts.map((q) => q[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = Math.max(...ys);
  const sx = (v) => pad + ((v - x0) / (x1 - x0 || 1)) * (W - 2 * pad);
  const sy = (v) => H - pad - ((v - y0) / (y1 - y0 || 1)) * (H - 2 * pad);
  const ex = p.explained || [0, 0];
  $("pca-caption").textContent = `Trajectory of the state in 2-D: PCA of ${p.basis === "held-out text" ? "states over held-out sentences" : "this sentence's states"} (PC1 ${(100 * ex[0]).toFixed(0)}%, PC2 ${(100 * ex[1]).toFixed(0)}% of the variance)`;
  svg.append(svgEl("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" }));
  svg.append(svgEl("line", { x1: pad, y1: pad, x2: pad, y2: H - pad, class: "axis" }));
  svg.append(svgEl("text", { x: W - pad, y: H - 8, "text-anchor": "end", class: "small", text: "PC1" }));
  svg.append(svgEl("text", { x: 4, y: pad - 8, class: "small", text: "PC2" }));
  const shown = pts.slice(0, S.pos + 1);
  svg.append(svgEl("polyline", { points: shown.map((q) => `${sx(q[0])},${sy(q[1])}`).join(" "), class: "traj" }));
  shown.forEach((q, t) => {
    const cur = t === S.pos;
    svg.append(svgEl("circle", { cx: sx(q[0]), cy: sy(q[1]), r: cur ? 7 : 4, fill: CM().viridis(t / Math.max(1, pts.length - 1)), class: cur ? "pt cur" : "pt", "data-tip": `step ${t + 1} (“${S.tr.tokens[t]}”): (${fmt(q[0], 2)}, ${fmt(q[1], 2)})` }));
    svg.append(unkAt(svgEl("text", { x: sx(q[0]) + 8, y: sy(q[1]) - 6, class: "small" + (cur ? " cur" : ""), text: S.tr.tokens[t] }), S.tr, t));
  });
}

export const GATE_INFO = {
  r: ["reset gate r", "how much of the old state the candidate may use (0 = ignore the past)"],
  z: ["update gate z", "how much of the old state to keep (1 = keep, 0 = overwrite with the candidate)"],
  n: ["candidate n", "the new content proposed from the word and the (reset) past"],
  i: ["input gate i", "how much new content to write into the cell"],
  f: ["forget gate f", "how much of the old cell to keep (1 = remember)"],
  g: ["candidate g", "the new content proposed for the cell"],
  o: ["output gate o", "how much of the cell to show as the hidden state"],
  cell: ["cell state c", "the LSTM's long-term memory: changed only by adding and forgetting"],
};

export function renderGates() {
  const box = clear($("gates"));
  const g = S.tr.gates[Math.min(S.layer, S.tr.layers - 1)][Math.min(S.dir, S.tr.directions - 1)];
  const names = Object.keys(g);
  if (!names.length) {
    $("gates-explain").textContent = "A vanilla RNN has no gates: every step overwrites the whole state, h_t = tanh(W_xh x_t + W_hh h_{t−1} + b). Pick the GRU or LSTM to see gates decide what to keep.";
    return;
  }
  $("gates-explain").textContent = S.tr.cell === "lstm"
    ? "The LSTM's gates (0 = closed, 1 = open) decide what to write into its cell, what to forget and what to show. Hover a cell for its exact value."
    : "The GRU's gates (0 = closed, 1 = open) decide how much of the old state to keep and how much the new word may change it. Hover a cell for its exact value.";
  // exact values of the selected unit at the current step (also reachable by keyboard)
  const u = Math.min(S.unit, g[names[0]][0].length - 1);
  box.append(el("p", { class: "readout wide", id: "gate-readout", "aria-live": "polite",
    text: `Unit ${u} after “${S.tr.tokens[S.pos]}”: ` + names.map((n) => `${n} = ${fmt(g[n][S.pos][u], 3)}`).join(", ") }));
  for (const name of names) {
    const [title, what] = GATE_INFO[name] || [name, ""];
    const svg = svgEl("svg", { class: "heat gate", role: "img", "aria-label": title, "data-gate": name });
    const fig = el("figure", {}, el("figcaption", {}, el("b", { text: title }), ": " + what), el("div", { class: "scroll" }, svg));
    box.append(fig);
    const mode = ["r", "z", "i", "f", "o"].includes(name) ? "gate" : "signed";
    renderHeatmap(svg, g[name], { mode, name, rowH: g[name][0].length > 96 ? 2 : 4, noLabels: false });
  }
}
