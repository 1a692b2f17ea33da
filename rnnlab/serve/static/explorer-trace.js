// The reading panels: the unrolled network, the hidden-state heatmap, its step-to-step change,
// the PCA trajectory and the gates (all from one /api/trace answer, up to the current step).
// Each is drawn once per text, layer and direction (draw*) and moved per step (move*).

import { $, el, clear, svg as svgEl } from "./lib.js";
import { CM, S, fmt, hiddenOf, keepVisible, showTok, sub, unkAt } from "./explorer-core.js";
import { drawHeatmap, moveHeatmap } from "./explorer-heat.js";

// The unrolled network: one box per step, all drawn with the same weights (same colours).
// Drawn once per text; a step only moves the cursor and flips the steps between the old and
// the new position to "read" or back (CSS greys a step not read yet).
export function drawUnrolled() {
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
  const groups = [];
  for (let t = 0; t < T; t++) {
    const x = left + t * cw;
    const g = svgEl("g", { class: "step", "data-t": t });
    g.append(unkAt(svgEl("text", { x: x + cw / 2 - 8, y: yIn + 18, "text-anchor": "middle", class: "word", text: tr.tokens[t] }), tr, t));
    const top1 = tr.steps[t].top[0];
    g.append(svgEl("text", { x: x + cw / 2 - 8, y: 30, "text-anchor": "middle", class: "small pred", text: top1 ? showTok(top1[0]) : "" }));
    for (let l = 0; l < L; l++) {
      for (let d = 0; d < D; d++) {
        const r = rows - 1 - (l * D + d);
        const y = top + r * rowH;
        const bx = x + 8, bw = cw - 32, bh = rowH - 26;
        const hv = tr.hidden[l][d][t];
        const norm = Math.sqrt(hv.reduce((s, v) => s + v * v, 0) / hv.length);
        const level = Math.min(1, norm * 1.6);
        g.append(svgEl("rect", { x: bx, y: y + 10, width: bw, height: bh, rx: 6, fill: CM().viridis(level), class: "cell" + (l === S.layer && d === S.dir ? " sel" : ""), "data-tip": `layer ${l + 1}${D > 1 ? (d ? " backward" : " forward") : ""}, step ${t + 1} (“${tr.tokens[t]}”): RMS of h = ${norm.toFixed(3)}` }));
        g.append(svgEl("text", { x: bx + bw / 2, y: y + 10 + bh / 2 + 4, "text-anchor": "middle", class: "cell-label" + (level < 0.5 ? " light" : ""), text: `h${sub(t)}` }));
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
    groups.push(g);
    svg.append(g);
  }
  // name the shared weights once, on the first arrows (above the W_hh arrow, not on it)
  const yTop = top + (rows - 1) * rowH + 10;
  if (T > 1) svg.append(svgEl("text", { x: left + 84, y: yTop - 2, "text-anchor": "middle", class: "small whh-label", text: "W_hh" }));
  svg.append(svgEl("text", { x: left + (cw - 32) / 2 + 12, y: yIn - 8, class: "small wxh-label", text: "W_xh" }));
  const cursor = svgEl("rect", { y: 2, width: cw - 20, height: H - 4, rx: 8, class: "cursor" });
  svg.append(cursor);
  S.unrolled = { groups, cursor, left, cw, pos: -1 };
}

export function moveUnrolled() {
  const u = S.unrolled;
  if (!u) return;
  const lo = u.pos < 0 ? 0 : Math.min(u.pos, S.pos), hi = u.pos < 0 ? u.groups.length - 1 : Math.max(u.pos, S.pos);
  for (let t = lo; t <= hi; t++) {
    u.groups[t].classList.toggle("done", t <= S.pos);
    u.groups[t].classList.toggle("current", t === S.pos);
  }
  u.pos = S.pos;
  u.cursor.setAttribute("x", u.left + S.pos * u.cw + 2);
  keepVisible($("unrolled"), u.left + S.pos * u.cw, u.cw);
}

// ---- heatmaps (drawn once per text, layer and direction; explorer-heat.js) ---------------

const rms = (row) => Math.sqrt(row.reduce((s, v) => s + v * v, 0));

export function drawHidden() {
  drawHeatmap($("heatmap"), hiddenOf(S.tr), { mode: "hidden" });
  const h = hiddenOf(S.tr);
  const d = h.map((row, t) => row.map((v, u) => v - (t > 0 ? h[t - 1][u] : 0)));
  const norms = d.map(rms);
  drawHeatmap($("delta"), d, { mode: "delta", name: "Δh", under: { values: norms, kind: "bars", tip: (t) => `‖Δh‖ at step ${t + 1} (“${S.tr.tokens[t]}”) = ${norms[t].toFixed(3)}` } });
}

export function moveHidden() {
  moveHeatmap($("heatmap"));
  moveHeatmap($("delta"));
}

// The PCA trajectory: every point drawn once; a step shows the points read so far, the
// latest few (RECENT) labelled in full and the older ones faded, so a long text stays legible.
const RECENT = 6;

export function drawPCA() {
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
  $("pca-caption").textContent = `Trajectory of the state in 2-D: PCA of ${p.basis === "held-out text" ? "states over held-out sentences" : "this sentence's states"} (PC1 ${(100 * ex[0]).toFixed(0)}%, PC2 ${(100 * ex[1]).toFixed(0)}% of the variance); the last ${RECENT} steps are labelled, older ones fade.`;
  svg.append(svgEl("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" }));
  svg.append(svgEl("line", { x1: pad, y1: pad, x2: pad, y2: H - pad, class: "axis" }));
  svg.append(svgEl("text", { x: W - pad, y: H - 8, "text-anchor": "end", class: "small", text: "PC1" }));
  svg.append(svgEl("text", { x: 4, y: pad - 8, class: "small", text: "PC2" }));
  const line = svgEl("polyline", { class: "traj" });
  svg.append(line);
  const xy = pts.map((q) => `${sx(q[0])},${sy(q[1])}`);
  const items = pts.map((q, t) => {
    const g = svgEl("g", { class: "pca-pt", "data-t": t });
    g.append(svgEl("circle", { cx: sx(q[0]), cy: sy(q[1]), r: 4, fill: CM().viridis(t / Math.max(1, pts.length - 1)), class: "pt", "data-tip": `step ${t + 1} (“${S.tr.tokens[t]}”): (${fmt(q[0], 2)}, ${fmt(q[1], 2)})` }));
    g.append(unkAt(svgEl("text", { x: sx(q[0]) + 8, y: sy(q[1]) - 6, class: "small", text: S.tr.tokens[t] }), S.tr, t));
    svg.append(g);
    return g;
  });
  S.pcaView = { line, xy, items, state: items.map(() => "") };
}

export function movePCA() {
  const v = S.pcaView;
  if (!v) return;
  v.line.setAttribute("points", v.xy.slice(0, S.pos + 1).join(" "));
  v.items.forEach((g, t) => {
    const st = t > S.pos ? "later" : t === S.pos ? "cur" : S.pos - t < RECENT ? "recent" : "old";
    if (st === v.state[t]) return; // only the points whose state changed are touched
    v.state[t] = st;
    g.setAttribute("class", `pca-pt ${st}`);
    g.firstChild.setAttribute("r", st === "cur" ? 7 : 4);
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

export function drawGates() {
  const box = clear($("gates"));
  const g = S.tr.gates[Math.min(S.layer, S.tr.layers - 1)][Math.min(S.dir, S.tr.directions - 1)];
  const names = Object.keys(g);
  S.gateNames = names;
  if (!names.length) {
    $("gates-explain").textContent = "A vanilla RNN has no gates: every step overwrites the whole state, h_t = tanh(W_xh x_t + W_hh h_{t−1} + b). Pick the GRU or LSTM to see gates decide what to keep.";
    return;
  }
  const line = " The line under each gate is its mean over the units at each step (dashed: half open), so you can see the gate opening without hovering.";
  $("gates-explain").textContent = (S.tr.cell === "lstm"
    ? "The LSTM's gates (0 = closed, 1 = open) decide what to write into its cell, what to forget and what to show. Hover a cell for its exact value."
    : "The GRU's gates (0 = closed, 1 = open) decide how much of the old state to keep and how much the new word may change it. Hover a cell for its exact value.") + line;
  // exact values of the selected unit at the current step (also reachable by keyboard)
  box.append(el("p", { class: "readout wide", id: "gate-readout", "aria-live": "polite" }));
  for (const name of names) {
    const [title, what] = GATE_INFO[name] || [name, ""];
    const heat = el("div", { class: "heat gate", role: "img", "aria-label": title, "data-gate": name });
    const fig = el("figure", {}, el("figcaption", {}, el("b", { text: title }), ": " + what), el("div", { class: "scroll" }, heat));
    box.append(fig);
    const gate = ["r", "z", "i", "f", "o"].includes(name);
    const mean = g[name].map((row) => row.reduce((s, v) => s + v, 0) / row.length);
    const under = gate ? { values: mean, kind: "line", max: 1, tip: (t) => `mean ${name} at step ${t + 1} (“${S.tr.tokens[t]}”) = ${fmt(mean[t], 3)}` } : null;
    drawHeatmap(heat, g[name], { mode: gate ? "gate" : "signed", name, rowH: g[name][0].length > 96 ? 2 : 4, under });
  }
}

export function moveGates() {
  const names = S.gateNames || [];
  if (!names.length) return;
  const g = S.tr.gates[Math.min(S.layer, S.tr.layers - 1)][Math.min(S.dir, S.tr.directions - 1)];
  const u = Math.min(S.unit, g[names[0]][0].length - 1);
  $("gate-readout").textContent = `Unit ${u} after “${S.tr.tokens[S.pos]}”: ` + names.map((n) => `${n} = ${fmt(g[n][S.pos][u], 3)}`).join(", ");
  for (const heat of $("gates").querySelectorAll(".heat")) moveHeatmap(heat);
}
