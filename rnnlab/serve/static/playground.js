// The RNN Playground page: knobs (built from GET /api/playground/knobs), play / pause / step /
// reset, and the live view of the run streamed by GET /api/playground/stream (server-sent events).
import { $, api, clear, el, showError } from "./lib.js";
import { LANE_COLORS, bars, heatmap, lineChart } from "./playground-draw.js";

const S = { info: null, run: null, dirty: true, source: null, snap: null, curves: [], events: 0, lanesKey: "" };
window.playgroundState = S; // for the tests and the curious

const laneIds = [0, 1];
const inputId = (k, lane) => (k.scope === "data" ? `pg-${k.name}` : `pg-${lane}-${k.name}`);

function control(k, lane) {
  const id = inputId(k, lane);
  let input;
  if (k.choices) input = el("select", { id }, k.choices.map((c) => el("option", { value: c, text: c })));
  else if (k.type === "bool") input = el("input", { id, type: "checkbox" });
  else input = el("input", { id, type: "number", min: k.min, max: k.max, step: k.type === "float" ? "any" : 1 });
  input.addEventListener("change", () => { S.dirty = true; status(); });
  const range = k.min !== null ? ` (${k.min}–${k.max})` : "";
  return el("label", { title: k.help + range, class: k.type === "bool" ? "inline" : null }, `${k.name}${range}`, input);
}

function setValue(k, lane, v) {
  const node = $(inputId(k, lane));
  if (k.type === "bool") node.checked = !!v; else node.value = v;
}

function readValue(k, lane) {
  const node = $(inputId(k, lane));
  if (k.type === "bool") return node.checked;
  if (k.choices) return node.value;
  return k.type === "int" ? parseInt(node.value, 10) : parseFloat(node.value);
}

function applyPreset(p) {
  for (const k of S.info.knobs) {
    if (k.scope === "data") setValue(k, 0, p.data[k.name] ?? k.default);
    else laneIds.forEach((i) => setValue(k, i, (p.lanes[i] || {})[k.name] ?? k.default));
  }
  $("pg-two").checked = p.lanes.length > 1;
  $("pg-lane-1").disabled = p.lanes.length < 2;
  $("pg-preset-note").textContent = p.note;
  S.dirty = true;
}

function knobs() {
  const data = {}, lanes = [{}, {}];
  for (const k of S.info.knobs) {
    if (k.scope === "data") data[k.name] = readValue(k, 0);
    else laneIds.forEach((i) => { lanes[i][k.name] = readValue(k, i); });
  }
  return { data, lanes: $("pg-two").checked ? lanes : lanes.slice(0, 1) };
}

function status() {
  const s = S.snap;
  let text = s ? `step ${s.step.toLocaleString("en-US")} · ${s.state} · ${s.train_seconds.toFixed(1)} s of training` : "not started";
  if (s && s.reason) text += ` (${s.reason})`;
  if (S.dirty && S.run) text += " · knobs changed: Play starts a new run";
  $("pg-status").textContent = text;
  $("pg-status").dataset.step = s ? s.step : "";
  $("pg-status").dataset.state = s ? s.state : "";
}

// ---- the run ------------------------------------------------------------------------------

async function ensureRun() {
  if (S.run && !S.dirty && ["paused", "playing", "starting"].includes(S.snap ? S.snap.state : "starting")) return;
  closeStream();
  S.run = await api("/api/playground/run", knobs());
  S.dirty = false;
  S.snap = null; S.curves = []; S.lanesKey = "";
  openStream();
}

async function act(action) {
  showError("pg-error", null);
  try {
    if (action === "play" || action === "step") await ensureRun();
    else if (!S.run) return;
    await api(`/api/playground/run/${action}`, {});
  } catch (e) { showError("pg-error", e); }
}

function closeStream() { if (S.source) { S.source.close(); S.source = null; } }

function openStream() {
  const src = new EventSource("/api/playground/stream");
  S.source = src;
  src.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (S.run && ev.id !== S.run.id) return;
    if (ev.restart) S.curves = ev.curves.map(() => ({ train: [], evals: [] }));
    ev.curves.forEach((c, i) => { S.curves[i].train.push(...c.train); S.curves[i].evals.push(...c.evals); });
    S.snap = ev;
    S.events += 1;
    render();
    if (!["starting", "paused", "playing"].includes(ev.state)) closeStream();
  };
  src.onerror = () => { if (S.snap && !["starting", "paused", "playing"].includes(S.snap.state)) closeStream(); };
}

// ---- drawing ------------------------------------------------------------------------------

function lanePanel(i, lane) {
  const box = el("section", { class: "card lane", id: `pg-view-${i}` },
    el("h2", { text: lane.label }),
    el("div", { class: "numbers" },
      ["val_score", "val_loss", "train_loss"].map((f) => el("div", {}, el("span", { text: f.replace("_", " ") }), el("span", { class: `n-${f}` })))),
    el("h3", { text: "Probe: what it answers" }),
    el("div", { class: "answer" }),
    el("h3", { text: "Hidden state over the probe (units × steps, first layer)" }),
    el("canvas", { class: "heat", role: "img", "aria-label": `hidden state of the ${lane.label} over the probe sequence` }),
    el("h3", { text: "Gate saturation (share of values near 0 or 1; tanh near ±1)" }),
    el("div", { class: "bars" }));
  box.style.setProperty("--c", LANE_COLORS[i]);
  return box;
}

function num(v, pct) {
  if (v === null || v === undefined) return "–";
  return pct ? `${(100 * v).toFixed(1)}%` : v.toPrecision(4);
}

function renderLane(i, lane) {
  const box = $(`pg-view-${i}`);
  for (const f of ["val_score", "val_loss", "train_loss"]) {
    const node = box.querySelector(`.n-${f}`);
    node.textContent = num(lane[f], f === "val_score");
    node.dataset.value = lane[f] === null ? "" : lane[f];
  }
  const a = lane.answer, ans = box.querySelector(".answer");
  clear(ans).append(
    el("div", { text: `question: ${a.question}` }),
    el("div", { text: `right answer: ${a.target}` }),
    el("div", { class: a.correct >= 0.999 ? "ok" : "bad", text: `it answers: ${a.answer}`, "data-answer": a.answer }));
  heatmap(box.querySelector("canvas"), lane.hidden);
  bars(box.querySelector(".bars"), lane.saturation);
}

function render() {
  const s = S.snap;
  status();
  $("pg-verdict").textContent = s.verdict;
  const key = s.id + s.lanes.map((l) => l.label).join("|");
  if (key !== S.lanesKey) {
    S.lanesKey = key;
    clear($("pg-lanes")).append(...s.lanes.map((l, i) => lanePanel(i, l)));
  }
  s.lanes.forEach((l, i) => renderLane(i, l));
  const series = (pick) => s.lanes.map((l, i) => ({ label: l.label, color: LANE_COLORS[i], points: pick(i, l) }));
  lineChart($("pg-loss"), series((i) => (S.curves[i] ? S.curves[i].train.map((r) => [r[0], r[1]]) : [])), { log: true, xLabel: "step" });
  $("pg-score-h").textContent = `Validation ${s.score_name}`;
  lineChart($("pg-score"), series((i) => (S.curves[i] ? S.curves[i].evals.map((r) => [r[0], r[2]]) : [])),
    { xLabel: "step", yMin: Math.min(0, s.chance), yMax: 1, guide: { y: s.chance, label: `chance ${(100 * s.chance).toFixed(0)}%` } });
  lineChart($("pg-grad"), series((i, l) => l.grad_norm.map((v, t) => [t, v])), { log: true, xLabel: "step t of the probe sequence (the loss is read at the end)" });
}

async function init() {
  try {
    S.info = await api("/api/playground/knobs");
  } catch (e) { showError("pg-error", e); return; }
  $("pg-cap").textContent = `${S.info.limits.max_seconds} s`;
  for (const k of S.info.knobs) {
    if (k.scope === "data") $("pg-data").append(control(k, 0));
    else laneIds.forEach((i) => $(`pg-lane-${i}`).append(control(k, i)));
  }
  const sel = $("pg-preset");
  S.info.presets.forEach((p, i) => sel.append(el("option", { value: i, text: p.title })));
  sel.addEventListener("change", () => { applyPreset(S.info.presets[+sel.value]); status(); });
  applyPreset(S.info.presets[0]);
  $("pg-two").addEventListener("change", () => { $("pg-lane-1").disabled = !$("pg-two").checked; S.dirty = true; status(); });
  for (const a of ["play", "pause", "step", "reset"]) $(`pg-${a}`).addEventListener("click", () => act(a));
  window.addEventListener("pagehide", () => { closeStream(); if (S.run) fetch("/api/playground/run", { method: "DELETE", keepalive: true }); });
  document.body.dataset.ready = "1";
}

init();
