// RNN Explorer: plain JS + SVG, no build step, no external requests. This module loads the
// models, reads the text (/api/trace), steps through it and wires the controls; the panels are
// explorer-trace.js, explorer-predict.js, explorer-grads.js, explorer-neuron.js and
// explorer-cards.js (model card, compare table); state and helpers: explorer-core.js; $, el,
// svg, api: lib.js. Every number drawn is the server's.

import { $, el, api, showError, clear } from "./lib.js";
import { S, hiddenOf, levelOf, pct, unkAt } from "./explorer-core.js";
import { drawUnrolled, moveUnrolled, drawHidden, moveHidden, drawPCA, movePCA, drawGates, moveGates } from "./explorer-trace.js";
import { renderPred, drawSurprise, moveSurprise, runCompare, moveCompare } from "./explorer-predict.js";
import { LONG, PRESETS, RECALL, liveTemperature, runGrads, runGenerate } from "./explorer-grads.js";
import { selectUnit, renderNeuronText, loadNeuron } from "./explorer-neuron.js";
import { loadCard, loadCompareTable, markCompareRow } from "./explorer-cards.js";

// ---- models ----------------------------------------------------------------------------

const GROUP_LABELS = {
  words: "Word models: everyday English",
  chars: "Character model: Shakespeare",
  recall: "Recall task (the gradient demo)",
};

export async function loadModels() {
  const d = await api("/api/models");
  S.models = d.models;
  const names = S.models.map((m) => m.name);
  for (const id of ["model", "grad-a", "grad-b", "gen-model"]) clear($(id));
  const groups = {};
  for (const m of S.models) {
    const g = m.group || "words";
    if (!groups[g]) $("model").append((groups[g] = el("optgroup", { label: GROUP_LABELS[g] || g })));
    groups[g].append(el("option", { value: m.name, text: m.label }));
    $("grad-a").append(el("option", { value: m.name, text: m.label }));
    $("grad-b").append(el("option", { value: m.name, text: m.label }));
    if (m.causal) $("gen-model").append(el("option", { value: m.name, text: m.label }));
  }
  const pick = (pref, fallback) => pref.find((n) => names.includes(n)) || fallback;
  S.model = pick(["gru"], names[0]);
  $("model").value = S.model;
  $("gen-model").value = pick(["lstm", "gru"], (S.models.find((m) => m.causal) || {}).name);
  // the gradient view defaults to the recall pair (trained where memory matters), if served
  const recall = S.models.filter((m) => m.group === "recall");
  const rv = recall.find((m) => m.cell.startsWith("rnn")), rl = recall.find((m) => m.cell === "lstm");
  S.recallPair = rv && rl ? [rv.name, rl.name] : null;
  $("grad-recall").hidden = !S.recallPair;
  $("grad-a").value = S.recallPair ? S.recallPair[0] : pick(["rnn"], names[0]);
  $("grad-b").value = S.recallPair ? S.recallPair[1] : pick(["lstm"], names[names.length - 1]);
  $("grad-text").value = S.recallPair ? RECALL : LONG;
}

export function fillLayerDir() {
  const m = S.tr;
  clear($("layer"));
  clear($("dir"));
  for (let l = 0; l < m.layers; l++) $("layer").append(el("option", { value: l, text: m.layers > 1 ? `${l + 1} of ${m.layers}` : "1" }));
  const dirs = m.directions === 2 ? ["forward →", "backward ←"] : ["forward →"];
  dirs.forEach((t, d) => $("dir").append(el("option", { value: d, text: t })));
  S.layer = Math.min(S.layer, m.layers - 1);
  S.dir = Math.min(S.dir, m.directions - 1);
  $("layer").value = S.layer;
  $("dir").value = S.dir;
  $("layer").disabled = m.layers < 2;
  $("dir").disabled = m.directions < 2;
  $("unit").max = m.hidden_size - 1;
  if (S.unit > m.hidden_size - 1) S.unit = 0;
  $("unit").value = S.unit;
}

// ---- reading ---------------------------------------------------------------------------

export async function read() {
  stop();
  showError("error", "");
  const text = $("text").value;
  const seq = (S.readSeq = (S.readSeq || 0) + 1);
  let tr;
  try {
    tr = await api("/api/trace", { model: S.model, text, k: 5 });
  } catch (e) {
    if (seq === S.readSeq) { showError("error", e.message); clearViews(); }
    return;
  }
  if (seq !== S.readSeq) return; // a newer request is on its way
  tr.seq = seq; // which text the drawn pictures belong to
  S.tr = tr;
  fillLayerDir();
  S.pos = Math.max(0, Math.min(tr.tokens.length - 1, S.wantStep || 0));
  S.wantStep = 0;
  renderAll();
  saveURL();
  loadCard();
  markCompareRow();
  loadNeuron();
  runCompare(text);
}

export function setPos(p) {
  if (!S.tr) return;
  performance.mark("rnnlab-step-start");
  S.pos = Math.max(0, Math.min(S.tr.tokens.length - 1, p));
  renderStep();
  saveURL();
  performance.measure("rnnlab-step", "rnnlab-step-start"); // benchmarks/pages.py reads these
}
// Time every step of the current text (the first n), from the first on: the milliseconds of each
// setPos, style and layout included (forced), paint not (tests and benchmarks/pages.py).
window.explorerTiming = (n = Infinity) => {
  stop();
  setPos(0);
  const out = [];
  for (let t = 1; t < Math.min(n, S.tr.tokens.length); t++) {
    const a = performance.now();
    setPos(t);
    void document.body.offsetHeight; // force the style and layout this step caused
    out.push(performance.now() - a);
  }
  return out;
};

export function stop() {
  if (S.playing) clearInterval(S.playing);
  S.playing = null;
  $("play").textContent = "▶ Play";
  $("play").setAttribute("aria-label", "Play");
}
export function play() {
  if (S.playing) { stop(); return; }
  if (!S.tr) return;
  if (S.pos >= S.tr.tokens.length - 1) setPos(0);
  $("play").textContent = "⏸ Pause";
  $("play").setAttribute("aria-label", "Pause");
  const tick = () => {
    if (S.pos >= S.tr.tokens.length - 1) { stop(); return; }
    setPos(S.pos + 1);
  };
  S.playing = setInterval(tick, 1000 / Number($("speed").value));
}

// after a failed read no picture of the previous text may stay under the new one
export function clearViews() {
  stop();
  S.tr = S.drawn = S.unrolled = S.pcaView = S.surprise = null;
  S.cmpCols = [];
  for (const id of ["tokens", "unrolled", "heatmap", "delta", "pca", "gates", "bars", "surprise", "neuron-text", "neuron", "compare", "choice-out"]) clear($(id));
  for (const id of ["pos", "target", "surprise-note", "pca-caption", "gates-explain"]) $(id).textContent = "";
}

// the URL holds the text, the model and the step, so a link opens the same moment
// (written at most every 300 ms: browsers throttle history updates)
export function saveURL() {
  clearTimeout(S.urlTimer);
  S.urlTimer = setTimeout(() => {
    if (!S.tr) return;
    const q = new URLSearchParams({ model: S.model, step: String(S.pos + 1), text: $("text").value });
    history.replaceState(null, "", `${location.pathname}?${q}${location.hash}`);
  }, 300);
}
export function loadURL() {
  const q = new URLSearchParams(location.search);
  if (q.get("text")) $("text").value = q.get("text");
  if (q.get("model") && S.models.some((m) => m.name === q.get("model"))) S.model = $("model").value = q.get("model");
  S.wantStep = Math.max(0, (Number(q.get("step")) || 1) - 1);
}

export async function askChoice() {
  const out = $("choice-out"), word = $("choice-word").value;
  if (!S.tr || !S.tr.causal) { out.textContent = "Pick a next-word model to ask what comes next."; return; }
  // the text read up to the current step (the start step is the model's, not typed)
  const toks = S.tr.tokens.slice(S.tr.tokens[0] === "⟨s⟩" ? 1 : 0, S.pos + 1);
  const text = toks.join(levelOf(S.tr) === "char" ? "" : " ");
  try {
    if (!text.trim()) throw new Error("at the start step nothing has been read yet: step forward first");
    const d = await api("/api/predict", { model: S.model, text, word, k: 5 });
    const c = d.choice;
    out.textContent = c.known
      ? `p(“${c.word}” next after “${toks.slice(-4).join(" ")}”) = ${pct(c.p)}: the model's guess number ${c.rank.toLocaleString()}.`
      : `“${c.word}” is not in this model's vocabulary: it can never predict it.`;
  } catch (e) { out.textContent = e.message; }
}

export function renderAll() {
  renderTokens();
  renderStep();
}

// What depends on the text, the layer or the direction is drawn once (draw*); a step only
// moves cursors and veils (move*), so stepping costs the same on a 200-word text as on 5.
export function renderStep() {
  const key = `${S.tr.seq}|${S.layer}|${S.dir}`;
  if (S.drawn !== key) {
    drawUnrolled(); drawHidden(); drawPCA(); drawGates(); drawSurprise();
    S.drawn = key;
    S.neuronKey = S.tokPos = null;
  }
  if (S.neuronKey !== `${key}|${S.unit}`) { renderNeuronText(); S.neuronKey = `${key}|${S.unit}`; }
  const T = S.tr.tokens.length;
  $("pos").textContent = `step ${S.pos + 1} / ${T}: “${S.tr.tokens[S.pos]}”`;
  moveTokens();
  moveUnrolled();
  moveHidden();
  movePCA();
  moveGates();
  renderPred();
  moveSurprise();
  moveCompare();
}

// the token chips between the old and the new step change state; the others stay
function moveTokens() {
  const chips = $("tokens").children, old = S.tokPos ?? -1;
  const lo = old < 0 ? 0 : Math.min(old, S.pos), hi = old < 0 ? chips.length - 1 : Math.max(old, S.pos);
  for (let t = lo; t <= hi && t < chips.length; t++) {
    chips[t].setAttribute("aria-current", t === S.pos ? "step" : "false");
    chips[t].classList.toggle("read", t <= S.pos);
  }
  S.tokPos = S.pos;
}

export function renderTokens() {
  S.tokPos = null;
  const box = clear($("tokens"));
  S.tr.tokens.forEach((w, t) => {
    box.append(unkAt(el("button", { type: "button", class: "tok", role: "listitem", "data-t": t, "aria-label": `step ${t + 1}: ${w}`, onclick: () => { stop(); setPos(t); } }, w), S.tr, t));
  });
}

// ---- wiring ------------------------------------------------------------------------------

export function wire() {
  // after Read the arrows step at once: the caret leaves the text box
  $("read-form").addEventListener("submit", (e) => { e.preventDefault(); $("text").blur(); read(); });
  $("model").addEventListener("change", () => { S.model = $("model").value; read(); });
  $("play").addEventListener("click", play);
  $("fwd").addEventListener("click", () => { stop(); setPos(S.pos + 1); });
  $("back").addEventListener("click", () => { stop(); setPos(S.pos - 1); });
  $("first").addEventListener("click", () => { stop(); setPos(0); });
  $("last").addEventListener("click", () => { stop(); if (S.tr) setPos(S.tr.tokens.length - 1); });
  $("speed").addEventListener("input", () => {
    $("speed-out").textContent = `${$("speed").value} steps/s`;
    if (S.playing) { stop(); play(); }
  });
  $("choice-form").addEventListener("submit", (e) => { e.preventDefault(); askChoice(); });
  $("layer").addEventListener("change", () => { S.layer = Number($("layer").value); renderStep(); loadNeuron(); });
  $("dir").addEventListener("change", () => { S.dir = Number($("dir").value); renderStep(); loadNeuron(); });
  $("unit").addEventListener("change", () => {
    const u = Math.max(0, Math.min(Number($("unit").max), Math.floor(Number($("unit").value) || 0)));
    selectUnit(u);
  });
  $("grad-form").addEventListener("submit", (e) => { e.preventDefault(); runGrads(); });
  $("grad-text").addEventListener("change", () => { S.gradWord = null; });
  $("grad-long").addEventListener("click", () => { $("grad-text").value = LONG; S.gradWord = null; runGrads(); });
  $("grad-recall").addEventListener("click", () => {
    $("grad-text").value = RECALL;
    [$("grad-a").value, $("grad-b").value] = S.recallPair;
    S.gradWord = null;
    runGrads();
  });
  $("gen-form").addEventListener("submit", (e) => { e.preventDefault(); runGenerate(); });
  $("temp").addEventListener("input", liveTemperature);
  // a button reacts to Space on key-up: keep it from clicking too
  document.addEventListener("keyup", (e) => { if (e.key === " " && (e.target.tagName || "").toLowerCase() === "button") e.preventDefault(); });
  document.addEventListener("keydown", (e) => {
    const tag = (e.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag) || e.altKey || e.ctrlKey || e.metaKey) return;
    // Space plays / pauses wherever the focus is (a focused button would be pressed instead)
    if (e.key === " ") { e.preventDefault(); if (!e.repeat) play(); }
    else if (e.key === "ArrowRight") { e.preventDefault(); stop(); setPos(S.pos + 1); }
    else if (e.key === "ArrowLeft") { e.preventDefault(); stop(); setPos(S.pos - 1); }
    else if (e.key === "Home") { e.preventDefault(); stop(); setPos(0); }
    else if (e.key === "End") { e.preventDefault(); stop(); if (S.tr) setPos(S.tr.tokens.length - 1); }
  });
}

export async function start() {
  wire();
  for (const p of PRESETS) $("presets").append(el("button", { type: "button", class: "tok", text: p, onclick: () => { $("text").value = p; read(); } }));
  try {
    await loadModels();
  } catch (e) {
    showError("error", "Cannot reach the model server: " + e.message);
    return;
  }
  if (!S.models.length) { showError("error", "This server has no models."); return; }
  loadURL();
  await Promise.all([read(), loadCompareTable()]);
  runGrads();
  document.body.dataset.ready = "1";
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
