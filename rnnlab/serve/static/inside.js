// The /inside page: model and text controls, shared state, and the cell finder (view 1).
// The other views: inside-views.js (select & match, connectivity), inside-act.js (intervene,
// guided tour). Everything is computed by /api/inside/* on the real model.
import { $, api, clear, el, showError, svg } from "./lib.js";
import { initMatch, initConnectivity } from "./inside-views.js";
import { initIntervene, initTour } from "./inside-act.js";

const S = { models: [], cells: null, unit: null, tokens: [], activations: null };
window.insideState = S;

// what the views share: the current model, its listing, the text and its tokens
export const ctx = {
  model: () => $("model").value,
  entry: () => S.models.find((m) => m.name === $("model").value),
  text: () => $("text").value,
  state: S,
  status: (msg) => { $("status").textContent = msg || ""; },
  fail: (e) => showError("error", e),
  listeners: [],
  onRead(fn) { this.listeners.push(fn); },
  // a token as shown in text: a char model's newline stays a line break, words get a space
  shown: (tok, level) => (level === "char" ? (tok === "\n" ? "↵\n" : tok) : tok + " "),
  // a token on a button: line breaks and spaces made visible
  label: (tok) => (tok === "\n" ? "↵" : tok === " " ? "␣" : tok),
  // diverging colour of v (blue < 0 < orange), scaled by max |v|
  colourOf: (v, max) => (window.Colormaps ? window.Colormaps.diverging(v, max) : "#eee"),
};
const { shown, colourOf } = ctx;

function unitLabel(r) {
  return `${r.state}${r.layer}·${r.unit}`;
}

function renderDetectors() {
  const sel = clear($("detector"));
  const c = S.cells;
  for (const d of Object.keys(c.top)) sel.append(el("option", { value: d, text: d }));
  for (const d of c.constant) sel.append(el("option", { value: d, text: `${d} (never changes here)`, disabled: "disabled" }));
  const track = clear($("sel-detector"));
  for (const d of Object.keys(c.top)) track.append(el("option", { value: d, text: d }));
  renderTop();
}

function renderTop() {
  const box = clear($("top-units"));
  const rows = S.cells.top[$("detector").value] || [];
  rows.forEach((r, i) => {
    box.append(el("button", {
      class: "tok unit", "data-unit": r.unit, "data-state": r.state, "data-layer": r.layer,
      "data-r": r.r, "aria-pressed": String(i === 0),
      text: `${unitLabel(r)}  r = ${r.r.toFixed(2)}`,
      onclick: () => pickUnit(r),
    }));
  });
  if (rows.length) pickUnit(rows[0]);
}

async function pickUnit(r) {
  S.unit = r;
  for (const b of document.querySelectorAll("#top-units button")) {
    b.setAttribute("aria-pressed", String(+b.dataset.unit === r.unit && b.dataset.state === r.state && +b.dataset.layer === r.layer));
  }
  for (const [id, v] of [["iv-state", r.state], ["iv-layer", r.layer], ["iv-unit", r.unit], ["sel-state", r.state], ["sel-layer", r.layer]]) $(id).value = v;
  await colour();
}

async function colour() {
  const r = S.unit;
  if (!r) return;
  const own = $("own-text").checked;
  try {
    const body = { model: ctx.model(), state: r.state, layer: r.layer, direction: r.direction, unit: r.unit };
    if (own) body.text = ctx.text();
    const a = await api("/api/inside/activations", body);
    S.activations = a;
    const box = clear($("karpathy"));
    const max = Math.max(1e-6, ...a.values.map(Math.abs));
    const level = S.cells.level;
    a.tokens.forEach((t, i) => {
      box.append(el("span", { "data-v": a.values[i], title: `${JSON.stringify(t)}: ${a.values[i]}`, style: `background:${colourOf(a.values[i], max)}`, text: shown(t, level) }));
    });
    $("colour-caption").textContent = `unit ${unitLabel(r)} (r = ${r.r.toFixed(2)} with “${r.detector}”) over ${a.source === "text" ? "your text" : "held-out text"}; max |value| ${max.toFixed(2)}`;
    ctx.fail(null);
  } catch (e) { ctx.fail(e); }
}

function renderSaturation() {
  const box = clear($("saturation"));
  const byLayer = {};
  for (const g of S.cells.saturation) (byLayer[`${g.layer}.${g.direction}`] ||= []).push(g);
  for (const [key, gates] of Object.entries(byLayer)) {
    const rows = gates.map((g) => el("tr", { "data-gate": g.gate },
      el("td", { text: g.gate }), el("td", { text: (100 * g.left).toFixed(1) + "%" }), el("td", { text: (100 * g.right).toFixed(1) + "%" })));
    const table = el("table", { class: "sat" }, el("tr", {}, el("th", { text: "gate" }), el("th", { text: "< 0.1" }), el("th", { text: "> 0.9" })), ...rows);
    const W = 160;
    const plot = svg("svg", { viewBox: `0 0 ${W} ${W}`, width: W, height: W, role: "img", "aria-label": `units' saturation, layer ${key}` },
      svg("line", { x1: 0, y1: W, x2: W, y2: 0, class: "gridline" }),
      svg("text", { x: 4, y: W - 4, class: "small", text: "left →" }),
      svg("text", { x: 4, y: 12, class: "small", text: "↑ right" }));
    const colours = ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];
    gates.forEach((g, j) => g.unit_left.forEach((l, u) => plot.append(svg("circle", {
      cx: 4 + l * (W - 8), cy: W - 4 - g.unit_right[u] * (W - 8), r: 1.6, fill: colours[j % 5], opacity: 0.6 }))));
    const legend = el("p", { class: "hint", text: gates.map((g, j) => `${g.gate}: ${["blue", "green", "red", "purple", "brown"][j % 5]}`).join(", ") });
    box.append(el("figure", {}, el("figcaption", { text: `layer ${key.split(".")[0]}` }), table, plot, legend));
  }
}

async function loadCells() {
  ctx.status("reading held-out text (the first time for a model takes a few seconds)…");
  try {
    S.cells = await api("/api/inside/cells", { model: ctx.model(), k: 6 });
    renderDetectors();
    renderSaturation();
    ctx.status(`${S.cells.n_tokens} held-out tokens read in ${S.cells.seconds} s`);
    ctx.fail(null);
  } catch (e) { ctx.fail(e); }
}

async function read() {
  S.reading = (S.reading || 0) + 1; // reads in flight: tests (and nothing else) wait for 0
  const my = S.readSeq = (S.readSeq || 0) + 1; // a slower, older read must not overwrite a newer one
  try {
    const a = await api("/api/inside/activations", { model: ctx.model(), text: ctx.text(), unit: 0 });
    if (my !== S.readSeq) return;
    S.tokens = a.tokens;
    ctx.fail(null);
    for (const fn of ctx.listeners) fn();
    if ($("own-text").checked) await colour();
  } catch (e) { ctx.fail(e); } finally { S.reading -= 1; }
}

async function start() {
  const d = await api("/api/models");
  S.models = d.models.filter((m) => m.causal);
  for (const m of S.models) $("model").append(el("option", { value: m.name, text: `${m.label} (${m.level}s)` }));
  const shake = S.models.find((m) => m.level === "char");
  if (shake) $("model").value = shake.name;
  initMatch(ctx);
  initConnectivity(ctx);
  initIntervene(ctx);
  initTour(ctx);
  $("model").addEventListener("change", async () => { await loadCells(); await read(); });
  $("read").addEventListener("click", read);
  $("text").addEventListener("keydown", (e) => { if (e.key === "Enter") read(); });
  $("detector").addEventListener("change", renderTop);
  $("own-text").addEventListener("change", colour);
  await loadCells();
  await read();
  document.body.dataset.ready = "1";
}

start().catch((e) => { ctx.fail(e); document.body.dataset.ready = "1"; });
