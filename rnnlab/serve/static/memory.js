// Memory lab page: gradient-norm-vs-distance curves per cell (GET /api/memory/curves) with a
// length slider, and the last sweep's table and trained curves (GET /api/memory/sweep).
import { $, api, el, showError, svg as svgEl } from "./lib.js";

const COLORS = { rnn: "#d62728", rnn_relu: "#ff7f0e", gru: "#1f77b4", lstm: "#2ca02c", mingru: "#9467bd", minlstm: "#8c564b" };

// Log-y line chart of series [{cell, values}] where values[d] is the norm at distance d.
function chart(box, legend, series) {
  const W = 900, H = 340, L = 64, R = 12, T = 10, B = 40;
  const all = [];
  let n = 1;
  for (const s of series) {
    n = Math.max(n, s.values.length);
    for (const v of s.values) if (v > 0 && isFinite(v)) all.push(Math.log10(v));
  }
  box.textContent = "";
  legend.textContent = "";
  if (!all.length) { box.textContent = "no positive gradient values to draw"; return; }
  let lo = Math.floor(Math.min(...all)), hi = Math.ceil(Math.max(...all));
  if (hi === lo) hi = lo + 1;
  const x = (d) => L + (d / Math.max(1, n - 1)) * (W - L - R);
  const y = (lg) => T + ((hi - lg) / (hi - lo)) * (H - T - B);
  const svg = box.appendChild(svgEl("svg", { viewBox: `0 0 ${W} ${H}` }));
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  for (let e = lo; e <= hi; e += step) {
    svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y(e), y2: y(e), stroke: "#e3e3ea" }));
    svg.appendChild(svgEl("text", { x: L - 6, y: y(e) + 4, "text-anchor": "end", "font-size": 12 })).textContent = `1e${e}`;
  }
  // x ticks at round numbers: a step of 1, 2 or 5 times a power of ten, 6 ticks at most
  const span = Math.max(1, n - 1), p10 = 10 ** Math.floor(Math.log10(span / 5));
  const xs = [1, 2, 5, 10].map((m) => m * p10).find((s) => span / s <= 5) || span;
  for (let d = 0; d <= span; d += xs) {
    svg.appendChild(svgEl("text", { x: x(d), y: H - B + 16, "text-anchor": "middle", "font-size": 12 })).textContent = d;
  }
  svg.appendChild(svgEl("text", { x: (L + W) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12 })).textContent = "distance from the loss (steps)";
  svg.appendChild(svgEl("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 12, transform: `rotate(-90 14 ${(T + H - B) / 2})` })).textContent = "‖∂L/∂h_t‖";
  for (const s of series) {
    let dstr = "", pen = "M";
    s.values.forEach((v, d) => {
      if (v > 0 && isFinite(v)) { dstr += `${pen}${x(d).toFixed(1)},${y(Math.log10(v)).toFixed(1)}`; pen = "L"; }
      else pen = "M";
    });
    const color = COLORS[s.cell] || "#333";
    // underflowed to 0 (below float64's range): a dotted line on the chart's floor
    const zero = s.values.map((v, d) => (v === 0 ? d : -1)).filter((d) => d >= 0);
    if (zero.length) svg.appendChild(svgEl("line", { class: "underflow", x1: x(zero[0]), x2: x(zero[zero.length - 1]), y1: y(lo), y2: y(lo), stroke: color, "stroke-width": 3, "stroke-dasharray": "2 4" }));
    svg.appendChild(svgEl("path", { d: dstr, fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": s.dash || "" }))
      .appendChild(svgEl("title", {})).textContent = s.label || s.cell;
    const item = document.createElement("span");
    item.style.setProperty("--c", color);
    const last = s.values[s.values.length - 1];
    item.textContent = `${s.label || s.cell}: ${Number(s.values[0]).toExponential(1)} at d=0, ${last === 0 ? "below 1e−308 (underflow)" : Number(last).toExponential(1)} at d=${s.values.length - 1}`;
    legend.appendChild(item);
  }
}

let timer = null, seq = 0;
function refresh() {
  const task = $("mem-task").value, length = $("mem-len").value;
  $("mem-len-out").textContent = length;
  const me = ++seq;
  $("mem-status").textContent = `computing T=${length}…`;
  api(`/api/memory/curves?task=${encodeURIComponent(task)}&length=${length}`)
    .then((d) => {
      if (me !== seq) return; // a newer request is on its way
      showError("mem-error", null);
      chart($("mem-chart"), $("mem-legend"), d.curves.map((c) => ({ cell: c.cell, values: c.grad_norm })));
      const miss = d.unavailable.map((m) => m.cell).join(", ");
      $("mem-status").textContent = `${d.task}, T=${d.length}, hidden ${d.hidden}` + (miss ? ` (not available here: ${miss})` : "");
    })
    .catch((e) => { if (me === seq) { showError("mem-error", e); $("mem-status").textContent = ""; } });
}
function schedule() { $("mem-len-out").textContent = $("mem-len").value; clearTimeout(timer); timer = setTimeout(refresh, 200); }

const TASKS = {
  adding: "Adding problem: a long stream of random numbers, two of them marked; the answer is the sum of the two marked numbers, read at the end. The first mark can be anywhere, so the network must carry a number across the whole sequence.",
  copy: "Copy: a few symbols at the start, then T blanks, then the network must repeat the symbols in order: it has to hold them for T steps.",
  recall: "Delayed recall: a key and its value at the start, T steps of filler, then the key again: the network must answer with its value.",
  parity: "Parity: a stream of bits; the answer is whether the number of ones was odd. Every bit matters, however far back.",
};

function showSweep(d) {
  if (!d.available || !d.runs.length) {
    $("sweep-how").hidden = false;
    $("sweep-how").textContent = `After training: no sweep results on this server yet. To see what training does to these curves, ${d.how || "run `rnnlab memory sweep`, then reload"}.`;
    return;
  }
  $("sweep-card").hidden = false;
  const runs = d.runs, lengths = [...new Set(runs.map((r) => r.length))].sort((a, b) => a - b);
  const cells = [...new Set(runs.map((r) => r.cell))];
  const adding = runs[0].task === "adding";
  $("sweep-note").textContent = `${runs[0].task}, ${runs[0].steps} training steps per run; ${adding ? "test MSE (solved: below 1% of the trivial 0.167)" : "test accuracy (solved: ≥ 99%)"}.`;
  const t = document.createElement("table");
  t.className = "sweep";
  t.append(el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "cell" }), lengths.map((L) => el("th", { scope: "col", text: `T=${L}` })))));
  const tb = document.createElement("tbody");
  for (const c of cells) {
    const tr = document.createElement("tr");
    const th = document.createElement("th"); th.scope = "row"; th.textContent = c; tr.appendChild(th);
    for (const L of lengths) {
      const r = runs.find((q) => q.cell === c && q.length === L), td = document.createElement("td");
      if (r) {
        const v = adding ? r.test.mse.toFixed(4) : (100 * r.test.acc).toFixed(1) + "%";
        td.textContent = (r.verdict === "solved" ? "✓ " : "✗ ") + v;
        td.className = r.verdict === "solved" ? "ok" : "no";
      } else td.textContent = "–";
      tr.appendChild(td);
    }
    tb.appendChild(tr);
  }
  t.appendChild(tb);
  $("sweep-table").textContent = "";
  $("sweep-table").appendChild(t);
  const sel = $("sweep-len");
  sel.textContent = "";
  for (const L of lengths) { const o = document.createElement("option"); o.value = L; o.textContent = L; sel.appendChild(o); }
  sel.value = lengths[lengths.length - 1];
  const draw = () => {
    const L = Number(sel.value), series = [];
    for (const r of runs.filter((q) => q.length === L)) {
      series.push({ cell: r.cell, label: `${r.cell} trained (${r.verdict})`, values: r.grad_trained });
    }
    chart($("sweep-chart"), $("sweep-legend"), series);
  };
  sel.addEventListener("change", draw);
  draw();
}

function explainTask() { $("task-explain").textContent = TASKS[$("mem-task").value] || ""; }

function start() {
  $("mem-len").addEventListener("input", schedule);
  $("mem-task").addEventListener("change", () => { explainTask(); refresh(); });
  explainTask();
  refresh();
  api("/api/memory/sweep").then(showSweep).catch(() => {});
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
