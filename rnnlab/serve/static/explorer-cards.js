// The model card (/api/models/{name}: architecture, data, held-out metrics, training time,
// size, how it was made, training curve) and the "Compare architectures" table (/api/compare:
// the server ranks the models and writes the summary from the same numbers shown here).

import { $, el, api, clear, svg as svgEl } from "./lib.js";
import { S, pct } from "./explorer-core.js";

// ---- formats (of the server's numbers; nothing here invents one) --------------------------

export function duration(s) {
  if (s === null || s === undefined) return "–";
  if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60), r = Math.round(s - 60 * m);
  if (m < 90) return `${m} min ${r} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
export function bytes(n) {
  if (n === null || n === undefined) return "–";
  if (n < 1e3) return `${n} bytes`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(2)} GB`;
}
export function metricText(m, level) {
  const v = m.value;
  if (m.unit === "share") return pct(v);
  if (m.unit === "count") return String(Math.round(v));
  if (m.unit === "bits") return `${v.toFixed(3)} bits`;
  if (m.unit === "nats") return `${v.toFixed(3)} nats`;
  if (m.unit === "ppl") return `${v.toFixed(2)} (as unsure as a fair choice among ${v.toFixed(0)} ${level === "char" ? "characters" : "words"})`;
  return String(v);
}
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// ---- model card --------------------------------------------------------------------------

export async function loadCard() {
  let c;
  try { c = await api(`/api/models/${encodeURIComponent(S.model)}`); } catch (e) { return; }
  const rows = [
    ["Architecture", `${c.label}: embedding → ${c.layers} × ${c.cell.toUpperCase()} layer${c.layers > 1 ? "s" : ""}${c.directions > 1 ? " (bidirectional)" : ""} of ${c.hidden_size} units → softmax over ${c.vocab_size.toLocaleString()} ${c.level === "char" ? "characters" : "words"}`],
    ["Task", c.causal ? "next-word prediction (language model)" : "fill in the blank: each word from the words before and after it"],
    ["Parameters", c.params.toLocaleString()],
    ["Training data", c.data || "–"],
    ...c.metric_rows.map((m) => [cap(m.label), metricText(m, c.level), m.key]),
    ["Training time", duration(c.training_seconds)],
    ["Size on disk", bytes(c.size_bytes)],
  ];
  if (c.limits) rows.push(["Limits", c.limits]);
  if (c.command) rows.push(["Made with", el("code", { text: c.command })]);
  const tb = el("table", { class: "kv" }, rows.map(([k, v, key]) => el("tr", { "data-key": key || k }, el("th", { text: k }), el("td", {}, v))));
  clear($("model-card")).append(tb);
  drawCurve(c.curve);
}

export function drawCurve(curve) {
  const svg = clear($("curve"));
  const W = 420, H = 200, left = 40, top = 10, bottom = 30;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  // the run logs nats; every page speaks bits
  const bits = (rows) => rows.map((q) => [q[0], q[1] / Math.LN2]);
  curve = { train: bits(curve.train), val: bits(curve.val) };
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
  curve.val.forEach((q) => svg.append(svgEl("circle", { cx: sx(q[0]), cy: sy(q[1]), r: 3, class: "pt val", "data-tip": `step ${q[0]}: held-out loss ${q[1].toFixed(3)} bits` })));
  svg.append(svgEl("text", { x: left + 10, y: top + 12, class: "small legend-train", text: "— train" }));
  svg.append(svgEl("text", { x: left + 70, y: top + 12, class: "small legend-val", text: "— validation" }));
}

// ---- compare architectures -----------------------------------------------------------------

const ppl = (v) => (v === null ? "–" : v.toFixed(1)); // the server rounds to this precision

function row(r, rank) {
  return el("tr", { "data-model": r.name, class: r.name === S.model ? "current" : null },
    el("td", { text: rank }),
    el("th", { scope: "row", text: r.label }),
    el("td", { class: "num", "data-ppl": r.val_ppl === null ? "" : r.val_ppl, text: ppl(r.val_ppl) }),
    el("td", { class: "num", text: duration(r.training_seconds) }),
    el("td", { class: "num", text: r.params.toLocaleString() }));
}

export async function loadCompareTable() {
  const box = clear($("compare-table"));
  let d;
  try { d = await api("/api/compare"); } catch (e) { box.append(el("p", { class: "error", text: e.message })); return; }
  S.compareTable = d;
  if (!d.models.length && !d.fillin.length) { $("compare-summary").textContent = d.summary; return; }
  const head = el("thead", {}, el("tr", {}, ["rank", "model", "held-out perplexity", "training time", "parameters"].map((t) => el("th", { scope: "col", text: t }))));
  const body = el("tbody", {}, d.models.map((r) => row(r, r.rank === null ? "–" : String(r.rank))));
  const parts = [head, body];
  if (d.fillin.length) {
    parts.push(el("tbody", { class: "fillin" },
      el("tr", {}, el("td", { colspan: 5, class: "small", text: "Fill in the blank (another task, not ranked):" })),
      d.fillin.map((r) => row(r, "–"))));
  }
  box.append(el("table", { class: "ranked", "aria-label": "The models ranked by held-out perplexity" }, parts));
  $("compare-summary").textContent = d.summary;
  $("compare-note").textContent = d.fillin_note || "";
  $("compare-note").hidden = !d.fillin_note;
}

export function markCompareRow() {
  for (const tr of document.querySelectorAll("#compare-table tr[data-model]")) tr.classList.toggle("current", tr.dataset.model === S.model);
}
