// The memory challenge: a clue, then the word that depends on it, further and further away
// (/api/game/memory/levels, /answer), and every model's accuracy by distance (/curve).

import { $, el, api, showError, markUnk, svg as svgEl } from "./lib.js";
import { fmt } from "./game-beat.js";

// Okabe–Ito: colour-blind-safe line colours for the models
export const COLOURS = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"];

// ---------------------------------------------------------------- memory challenge
export const memory = { loaded: false, seed: 0, answers: {}, data: null };

export async function loadMemory() {
  memory.loaded = true;
  showError("mem-error", null);
  memory.answers = {};
  try {
    const kind = $("mem-kind").value;
    const d = await api(`/api/game/memory/levels?kind=${encodeURIComponent(kind)}&seed=${memory.seed}`);
    memory.data = d;
    $("mem-explain").textContent = d.explain;
    const ol = $("mem-levels");
    ol.textContent = "";
    for (const lv of d.levels) {
      const li = el("li", { class: "card level", "data-level": String(lv.level) });
      li.append(el("h3", { text: `Level ${lv.level + 1} · ${lv.distance} word${lv.distance === 1 ? "" : "s"} between clue and blank` }));
      const p = el("p", { class: "prompt-line" }, lv.prompt + " ", el("span", { class: "blank", text: "____" }));
      li.append(p);
      const opts = el("div", { class: "row", role: "group", "aria-label": `Level ${lv.level + 1} choices` });
      for (const o of lv.options) {
        const b = el("button", { type: "button", class: "choice", text: o });
        b.addEventListener("click", () => answerLevel(lv, o, li));
        opts.append(b);
      }
      li.append(opts, el("div", { class: "mem-out" }));
      ol.append(li);
    }
    renderMemScore();
  } catch (e) { showError("mem-error", e); }
}

export async function answerLevel(lv, choice, li) {
  if (memory.answers[lv.level]) return;
  try {
    const r = await api("/api/game/memory/answer", { kind: memory.data.kind, level: lv.level, seed: memory.seed, choice });
    memory.answers[lv.level] = r;
    for (const b of li.querySelectorAll("button.choice")) {
      b.disabled = true;
      if (b.textContent === choice) b.classList.add("picked");
    }
    li.querySelector(".blank").textContent = r.answer;
    const out = li.querySelector(".mem-out");
    out.textContent = "";
    out.append(el("p", { class: r.correct ? "ok" : "miss", text: r.correct ? `✓ Right: “${r.answer}”.` : `✗ It is “${r.answer}”.` }));
    const bars = el("div", { class: "bars small" });
    for (const m of r.models) {
      if (m.error) { bars.append(el("p", { class: "small", text: `${m.label}: ${m.error}` })); if (m.unknown && m.unknown.length) bars.append(unknownLine(m)); continue; }
      const p = m.probs[r.answer];
      const row = el("div", { class: "barrow" + (m.correct ? " hit" : "") });
      const fill = el("span", { class: "fill" });
      fill.style.width = `${Math.max(0.5, p * 100)}%`;
      // the thin mark: the same word's probability with the other clue
      const mark = el("span", { class: "other", title: `with the other clue: ${(m.other_clue * 100).toFixed(0)}%` });
      mark.style.left = `${m.other_clue * 100}%`;
      const shift = Math.round((p - m.other_clue) * 100);
      row.append(el("span", { class: "w", text: `${m.label} ${m.correct ? "✓" : "✗"}` }),
        el("span", { class: "track" }, fill, mark),
        el("span", { class: "p", text: `${(p * 100).toFixed(0)}% “${r.answer}” (${shift >= 0 ? "+" : ""}${shift})` }));
      bars.append(row);
      if (m.unknown && m.unknown.length) bars.append(unknownLine(m));
    }
    out.append(bars);
    out.append(el("p", { class: "small", text: `Black mark: with the other clue, “${r.other_prompt} …”.` }));
    renderMemScore();
  } catch (e) { showError("mem-error", e); }
}

// the prompt's words a model reads as unknown: its answer did not see them
export function unknownLine(m) {
  const p = el("p", { class: "small unk-line", "data-model": m.name }, `${m.label} reads `);
  m.unknown.forEach((w, i) => p.append(i ? ", " : "", markUnk(el("span", { text: w }), true, m.level)));
  p.append(m.level === "char" ? " as the unknown character" : " as <unk>");
  return p;
}

export function renderMemScore() {
  const ans = Object.values(memory.answers);
  if (!ans.length) { $("mem-score").textContent = "Answer the levels to compare yourself with the models."; return; }
  const parts = [`You ${ans.filter((a) => a.correct).length}/${ans.length}`];
  const names = ans[0].models.filter((m) => !m.error).map((m) => m.label);
  for (const name of names) {
    const n = ans.filter((a) => a.models.find((m) => m.label === name && m.correct)).length;
    parts.push(`${name} ${n}/${ans.length}`);
  }
  $("mem-score").textContent = parts.join(" · ");
  if (memory.data && ans.length === memory.data.levels.length) loadCurve();
}

export async function loadCurve() {
  try {
    const d = await api(`/api/game/memory/curve?kind=${encodeURIComponent($("mem-kind").value)}`);
    drawCurve(d);
  } catch (e) { showError("mem-error", e); }
}

export function drawCurve(d) {
  memory.curve = d;
  const measure = $("mem-measure").value;
  $("mem-curve-card").hidden = false;
  $("mem-curve-n").textContent = String(d.items);
  const svg = $("mem-curve");
  svg.textContent = "";
  const W = 520, H = 260, L = 46, R = 12, T = 12, B = 40;
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("width", W);
  svg.setAttribute("height", H);
  const n = d.levels.length;
  const x = (i) => L + (n === 1 ? 0 : (i * (W - L - R)) / (n - 1));
  const y = (a) => T + (1 - a) * (H - T - B);
  for (const a of [0, 0.25, 0.5, 0.75, 1]) {
    svg.append(svgEl("line", { x1: L, x2: W - R, y1: y(a), y2: y(a), stroke: a === 0.5 ? "#999" : "#e3e3ea", "stroke-dasharray": a === 0.5 ? "4 3" : "" }));
    const t = svgEl("text", { x: L - 6, y: y(a) + 4, "text-anchor": "end", class: "small" });
    t.textContent = `${a * 100}%`;
    svg.append(t);
  }
  d.distance.forEach((dist, i) => {
    const t = svgEl("text", { x: x(i), y: H - B + 16, "text-anchor": "middle", class: "small" });
    t.textContent = `${fmt(dist, 1)}`;
    svg.append(t);
  });
  const xl = svgEl("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", class: "small" });
  xl.textContent = "words between the clue and the blank";
  svg.append(xl);
  const legend = $("mem-legend");
  legend.textContent = "";
  const dashes = ["", "6 3", "2 3", "8 3 2 3", "1 2", "4 4", ""];
  d.models.forEach((m, k) => {
    const colour = COLOURS[k % COLOURS.length];
    if (m.error) { legend.append(el("span", { class: "small", text: `${m.label}: ${m.error}` })); return; }
    const vals = m[measure], se = m[`${measure}_se`] || vals.map(() => 0);
    const pts = vals.map((a, i) => `${x(i)},${y(a)}`).join(" ");
    // ± one standard error over the level's sentences
    vals.forEach((a, i) => svg.append(svgEl("line", { class: "se", x1: x(i) + 3 * k - 4, x2: x(i) + 3 * k - 4, y1: y(Math.min(1, a + se[i])), y2: y(Math.max(0, a - se[i])), stroke: colour, "stroke-width": 1.5 })));
    svg.append(svgEl("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 2.5, "stroke-dasharray": dashes[k % dashes.length] }));
    vals.forEach((a, i) => {
      const c = svgEl("circle", { cx: x(i), cy: y(a), r: 4, fill: colour });
      const tt = svgEl("title", {});
      tt.textContent = `${m.label}, level ${i + 1}: clue remembered in ${(m.paired[i] * 100).toFixed(0)} ± ${(m.paired_se[i] * 100).toFixed(0)}% of pairs, ${(m.accuracy[i] * 100).toFixed(0)} ± ${(m.accuracy_se[i] * 100).toFixed(0)}% right, mean p(right) ${fmt(m.p_right[i])}`;
      c.append(tt);
      svg.append(c);
    });
    const sw = svgEl("svg", { width: 28, height: 8, "aria-hidden": "true" });
    sw.append(svgEl("line", { x1: 0, x2: 28, y1: 4, y2: 4, stroke: colour, "stroke-width": 3, "stroke-dasharray": dashes[k % dashes.length] }));
    legend.append(el("span", { class: "key" }, sw, `${m.label}`));
  });
}

$("mem-kind").addEventListener("change", () => { $("mem-curve-card").hidden = true; loadMemory(); });
$("mem-new").addEventListener("click", () => { memory.seed = Math.floor(Math.random() * 1e6); loadMemory(); });
$("mem-curve-btn").addEventListener("click", loadCurve);
$("mem-measure").addEventListener("change", () => { if (memory.curve) drawCurve(memory.curve); });

