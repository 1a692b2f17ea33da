// Heatmaps drawn once, moved per step. The cells of a steps × units matrix go on a canvas, one
// pixel per cell scaled up (a 200-step, 256-unit state is one drawImage, not 51k SVG rects);
// an SVG overlay carries the step labels, the legend, the grey veil over the steps not read
// yet, the current-step outline and the selected unit. A step moves the veil and the outline:
// nothing is redrawn. Hover a cell for its exact value; click it to look at that unit.

import { svg as svgEl } from "./lib.js";
import { CM, S, fmt, keepVisible, unkAt } from "./explorer-core.js";
import { selectUnit } from "./explorer-neuron.js";

const VEIL = "#f1f1f1"; // the colour of a step not read yet

// opt: mode "hidden" (diverging, fixed ±1) | "delta" / "signed" (diverging, scaled by max |v|)
// | "gate" (viridis 0..1); name (tooltips); rowH, cw, left, noLabels, noLegend;
// under: { values, max, kind: "bars" | "line", tip } a per-step strip under the cells
export function drawHeatmap(box, mat, opt = {}) {
  box.textContent = "";
  const T = mat.length, H = mat[0].length;
  const cw = opt.cw || Math.max(16, Math.min(44, 640 / T));
  const rh = opt.rowH || (H > 96 ? 3 : H > 48 ? 5 : 8);
  const left = opt.left ?? 40, top = opt.noLabels ? 4 : 46;
  const ub = opt.under ? 44 : 0; // the strip's height
  const W = left + T * cw + (opt.noLegend ? 2 : 60), Ht = top + H * rh + ub + 8;
  let max = 1;
  if (opt.mode === "delta" || opt.mode === "signed") {
    max = 1e-6;
    for (const row of mat) for (const v of row) max = Math.max(max, Math.abs(v));
  }
  const rgb = opt.mode === "gate" ? (v) => CM().viridisRGB(v) : (v) => CM().divergingRGB(v, max);
  const css = (v) => { const c = rgb(v); return `rgb(${c[0]},${c[1]},${c[2]})`; };
  // the cells: one pixel each, scaled up without smoothing, with a 1-px gap between steps
  const img = new ImageData(T, H);
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const c = rgb(mat[t][u]), i = 4 * (u * T + t);
      img.data[i] = c[0]; img.data[i + 1] = c[1]; img.data[i + 2] = c[2]; img.data[i + 3] = 255;
    }
  }
  const small = document.createElement("canvas");
  small.width = T; small.height = H;
  small.getContext("2d").putImageData(img, 0, 0);
  const cv = document.createElement("canvas");
  cv.className = "cells";
  cv.width = Math.ceil(T * cw); cv.height = H * rh + ub;
  cv.style.left = left + "px"; cv.style.top = top + "px";
  const ctx = cv.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, T * cw, H * rh);
  if (cw >= 6) { ctx.fillStyle = "#fff"; for (let t = 1; t <= T; t++) ctx.fillRect(t * cw - 1, 0, 1, H * rh); }
  if (opt.under) drawUnder(ctx, opt.under, T, cw, H * rh + 4, ub - 4);
  const over = svgEl("svg", { class: "overlay", width: W, height: Ht, viewBox: `0 0 ${W} ${Ht}`, "aria-hidden": "true" });
  const labels = [];
  if (!opt.noLabels) {
    S.tr.tokens.forEach((w, t) => {
      if (t >= T) return;
      const x = left + t * cw + cw / 2;
      const lab = unkAt(svgEl("text", { x, y: top - 6, class: "small tlabel", transform: `rotate(-40 ${x} ${top - 6})`, text: w }), S.tr, t);
      labels.push(lab);
      over.append(lab);
    });
    over.append(svgEl("text", { x: 2, y: top + 8, class: "small", text: "unit 0" }));
    over.append(svgEl("text", { x: 2, y: top + H * rh, class: "small", text: String(H - 1) }));
  }
  const veil = svgEl("rect", { class: "veil", y: top - 1, height: H * rh + ub + 2, fill: VEIL });
  const cursor = svgEl("rect", { y: top - 1, width: cw + 1, height: H * rh + ub + 2, class: "cursor" });
  const unitSel = svgEl("rect", { x: left - 4, width: T * cw + 6, height: rh, class: "unit-sel" });
  over.append(veil, cursor, unitSel);
  if (!opt.noLegend) {
    const lx = left + T * cw + 12;
    for (let i = 0; i <= 20; i++) {
      const f = 1 - i / 20;
      over.append(svgEl("rect", { x: lx, y: top + (i * H * rh) / 21, width: 10, height: (H * rh) / 21 + 0.5, fill: css(opt.mode === "gate" ? f : (2 * f - 1) * max) }));
    }
    const m = fmt(max, max < 10 ? 2 : 0);
    over.append(svgEl("text", { x: lx + 13, y: top + 8, class: "small", text: opt.mode === "gate" ? "1" : m }));
    over.append(svgEl("text", { x: lx + 13, y: top + H * rh, class: "small", text: opt.mode === "gate" ? "0" : "−" + m }));
  }
  box.style.width = W + "px"; box.style.height = Ht + "px";
  box.append(cv, over);
  const heat = { T, H, cw, rh, left, top, mat, max, over, veil, cursor, unitSel, labels, cur: -1, pos: 0 };
  box.heat = heat;
  cv.addEventListener("mousemove", (e) => {
    const t = Math.floor(e.offsetX / cw), u = Math.floor(e.offsetY / rh);
    if (t <= heat.pos && t < T && u < H) cv.dataset.tip = `${opt.name || "h"}: unit ${u}, step ${t + 1} (“${S.tr.tokens[t]}”) = ${fmt(mat[t][u])}`;
    else if (t <= heat.pos && t < T && opt.under && opt.under.tip) cv.dataset.tip = opt.under.tip(t);
    else delete cv.dataset.tip;
  });
  cv.addEventListener("click", (e) => {
    const u = Math.floor(e.offsetY / rh);
    if (u < H && !opt.noLabels) selectUnit(u);
  });
  return heat;
}

// a strip of one number per step under the cells: bars (e.g. ‖Δh‖) or a line (a gate's mean)
function drawUnder(ctx, under, T, cw, y0, h) {
  const mx = under.max || Math.max(1e-6, ...under.values);
  const y = (v) => y0 + h - (h * Math.max(0, v)) / mx;
  ctx.fillStyle = "#7a7a8c";
  ctx.strokeStyle = "#7a7a8c";
  if (under.kind === "line") {
    ctx.setLineDash([2, 3]);
    ctx.beginPath(); ctx.moveTo(0, y(mx / 2)); ctx.lineTo(T * cw, y(mx / 2)); ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = "#333"; ctx.lineWidth = 1.5;
    ctx.beginPath();
    under.values.forEach((v, t) => (t ? ctx.lineTo(t * cw + cw / 2, y(v)) : ctx.moveTo(cw / 2, y(v))));
    ctx.stroke();
    return;
  }
  under.values.forEach((v, t) => ctx.fillRect(t * cw + 2, y(v), Math.max(1, cw - 5), y0 + h - y(v)));
}

// move the veil, the outline and the selected unit to step `pos` (default: the reader's)
export function moveHeatmap(box, pos = S.pos, unit = S.unit) {
  const h = box && box.heat;
  if (!h) return;
  const p = Math.max(0, Math.min(pos, h.T - 1));
  h.pos = p;
  h.veil.setAttribute("x", h.left + (p + 1) * h.cw);
  h.veil.setAttribute("width", Math.max(0, (h.T - 1 - p) * h.cw + 1));
  h.cursor.setAttribute("x", h.left + p * h.cw - 1);
  if (h.cur !== p) {
    if (h.labels[h.cur]) h.labels[h.cur].classList.remove("cur");
    if (h.labels[p]) h.labels[p].classList.add("cur");
    h.cur = p;
  }
  h.unitSel.setAttribute("visibility", unit < h.H ? "visible" : "hidden");
  h.unitSel.setAttribute("y", h.top + Math.min(unit, h.H - 1) * h.rh);
  box.dataset.shown = String(p + 1); // steps revealed (tests read it)
  keepVisible(h.over, h.left + p * h.cw, h.cw);
}
