// The playground's drawings: line charts (linear or log y) in SVG, the hidden-state heatmap on
// a canvas, gate-saturation bars. Pure functions of the data they are given.
import { clear, el, svg } from "./lib.js";

export const LANE_COLORS = ["#d62728", "#1f77b4"];

// At most `n` points: the mean of each bucket of consecutive points (a long run's curve).
function thin(points, n) {
  if (points.length <= n) return points;
  const out = [], size = points.length / n;
  for (let i = 0; i < n; i++) {
    const part = points.slice(Math.floor(i * size), Math.floor((i + 1) * size));
    const ys = part.filter((p) => p[1] !== null && isFinite(p[1]));
    if (ys.length) out.push([part[part.length - 1][0], ys.reduce((a, p) => a + p[1], 0) / ys.length]);
  }
  return out;
}

const fmt = (v) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : +v.toFixed(2));

/** A line chart in `box`: series [{label, color, points: [[x, y], ...]}]; opt {log, xLabel,
 * yLabel, yMin, yMax, guide: {y, label}}. Non-positive values are gaps on a log axis. */
export function lineChart(box, series, opt = {}) {
  const W = 640, H = 240, L = 58, R = 10, T = 10, B = 36;
  const f = opt.log ? (v) => (v > 0 && isFinite(v) ? Math.log10(v) : null) : (v) => (v === null || !isFinite(v) ? null : v);
  const ser = series.map((s) => ({ ...s, points: thin(s.points, 500).map(([x, y]) => [x, f(y)]) }));
  const ys = ser.flatMap((s) => s.points.map((p) => p[1]).filter((v) => v !== null));
  const xs = ser.flatMap((s) => s.points.map((p) => p[0]));
  clear(box);
  if (!ys.length) { box.append(el("p", { class: "hint", text: "no data yet" })); return; }
  let lo = opt.yMin ?? Math.min(...ys), hi = opt.yMax ?? Math.max(...ys);
  if (opt.log) { lo = Math.floor(lo); hi = Math.ceil(hi); }
  if (hi - lo < 1e-9) hi = lo + 1;
  const x0 = Math.min(...xs), x1 = Math.max(x0 + 1, ...xs);
  const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const Y = (y) => T + ((hi - Math.min(hi, Math.max(lo, y))) / (hi - lo)) * (H - T - B);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}` });
  const ticks = opt.log ? Math.max(1, Math.ceil((hi - lo) / 6)) : (hi - lo) / 4;
  for (let v = lo; v <= hi + 1e-9; v += ticks) {
    root.append(svg("line", { x1: L, x2: W - R, y1: Y(v), y2: Y(v), stroke: "#e3e3ea" }));
    root.append(svg("text", { x: L - 6, y: Y(v) + 4, "text-anchor": "end", text: opt.log ? `1e${Math.round(v)}` : fmt(v) }));
  }
  for (let i = 0; i <= 4; i++) {
    const x = x0 + ((x1 - x0) * i) / 4;
    root.append(svg("text", { x: X(x), y: H - B + 15, "text-anchor": "middle", text: Math.round(x) }));
  }
  root.append(svg("text", { x: (L + W) / 2, y: H - 4, "text-anchor": "middle", text: opt.xLabel || "" }));
  if (opt.guide) {
    root.append(svg("line", { x1: L, x2: W - R, y1: Y(opt.guide.y), y2: Y(opt.guide.y), stroke: "#888", "stroke-dasharray": "4 3" }));
    root.append(svg("text", { x: W - R - 4, y: Y(opt.guide.y) - 4, "text-anchor": "end", class: "small", text: opt.guide.label }));
  }
  for (const s of ser) {
    let d = "", pen = "M";
    for (const [x, y] of s.points) {
      if (y === null) { pen = "M"; continue; }
      d += `${pen}${X(x).toFixed(1)},${Y(y).toFixed(1)}`;
      pen = "L";
    }
    root.append(svg("path", { d, fill: "none", stroke: s.color, "stroke-width": 2 }, svg("title", { text: s.label })));
  }
  box.append(root, el("div", { class: "legend" }, ser.map((s) => {
    const item = el("span", { text: s.label });
    item.style.setProperty("--c", s.color);
    return item;
  })));
}

/** The hidden state (T rows of H values) as a heatmap: time left to right, one row per unit. */
export function heatmap(canvas, rows) {
  const T = rows.length, H = T ? rows[0].length : 0;
  canvas.width = Math.max(1, T);
  canvas.height = Math.max(1, H);
  const ctx = canvas.getContext("2d");
  const cm = window.Colormaps;
  for (let t = 0; t < T; t++) {
    for (let u = 0; u < H; u++) {
      const v = rows[t][u];
      ctx.fillStyle = v === null ? "#888" : cm.diverging(v, 1);
      ctx.fillRect(t, u, 1, 1);
    }
  }
  canvas.style.height = `${Math.min(260, Math.max(60, H * 3))}px`;
}

/** Bars: the fraction of each gate's values that are saturated. */
export function bars(box, saturation) {
  clear(box);
  for (const [name, v] of Object.entries(saturation)) {
    const pct = v === null ? 0 : 100 * v;
    box.append(
      el("span", { text: name === "h" ? "h (|h|)" : name }),
      el("div", { class: "bar" }, el("span", { style: `width: ${pct.toFixed(1)}%` })),
      el("span", { text: `${pct.toFixed(1)}%`, "data-gate": name, "data-value": v }),
    );
  }
}
