// RNN Explorer: plain JS + SVG, no build step, no external requests.
// Data comes from the JSON API (/api/trace, /api/gradients, /api/generate, /api/neuron,
// /api/models/{name}); every number drawn here is one the server computed with the model.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const SVGNS = "http://www.w3.org/2000/svg";
  const CM = () => window.Colormaps;

  const S = {
    models: [], // from /api/models
    model: null, // name
    tr: null, // current /api/trace answer
    pos: 0, // current step
    layer: 0,
    dir: 0,
    playing: null, // interval id
    compare: {}, // name -> trace
    unit: 0,
    gen: null,
    genPick: -1,
    gradTarget: null, // index into tokens of the word to predict
  };
  window.explorerState = S; // for tests and the curious

  // ---- helpers ---------------------------------------------------------------------------

  function el(tag, attrs, ...kids) {
    const svg = ["svg", "rect", "line", "path", "circle", "text", "g", "polyline", "title", "marker", "defs", "tspan"].includes(tag);
    const n = svg ? document.createElementNS(SVGNS, tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") n.textContent = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else if (k === "style") n.style.cssText = v; // CSSOM: the CSP forbids style attributes
      else n.setAttribute(k, v);
    }
    for (const c of kids.flat()) if (c !== null && c !== undefined) n.append(c);
    return n;
  }
  const clear = (n) => { while (n.firstChild) n.removeChild(n.firstChild); return n; };
  const fmt = (v, d = 4) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
  const pct = (p) => (100 * p).toFixed(p < 0.01 ? 2 : 1) + "%";

  async function api(path, body) {
    const opt = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
    const r = await fetch(path, opt);
    let d = null;
    try { d = await r.json(); } catch (e) { d = { detail: r.statusText }; }
    if (!r.ok) throw new Error(typeof d.detail === "string" ? d.detail : JSON.stringify(d.detail));
    return d;
  }
  function showError(msg) {
    const e = $("error");
    e.textContent = msg || "";
    e.hidden = !msg;
  }
  const START = "⟨s⟩"; // the sentence-boundary step of next-word models
  const info = (name) => S.models.find((m) => m.name === name) || {};

  // tooltip: any element with data-tip shows it on hover / focus
  function tipAt(target, x, y) {
    const t = $("tooltip");
    const tip = target && target.closest && target.closest("[data-tip]");
    if (!tip) { t.hidden = true; return; }
    t.textContent = tip.getAttribute("data-tip");
    t.hidden = false;
    const w = t.offsetWidth, h = t.offsetHeight;
    t.style.left = Math.min(window.innerWidth - w - 8, x + 12) + window.scrollX + "px";
    t.style.top = Math.max(4, y - h - 10) + window.scrollY + "px";
  }
  document.addEventListener("mousemove", (e) => tipAt(e.target, e.clientX, e.clientY));
  document.addEventListener("focusin", (e) => {
    if (!e.target.closest || !e.target.closest("[data-tip]")) return;
    const r = e.target.getBoundingClientRect();
    tipAt(e.target, r.left, r.top);
  });
  document.addEventListener("focusout", () => { $("tooltip").hidden = true; });

  // ---- models ----------------------------------------------------------------------------

  async function loadModels() {
    const d = await api("/api/models");
    S.models = d.models;
    const names = S.models.map((m) => m.name);
    for (const id of ["model", "grad-a", "grad-b", "gen-model"]) clear($(id));
    for (const m of S.models) {
      $("model").append(el("option", { value: m.name, text: m.label }));
      $("grad-a").append(el("option", { value: m.name, text: m.label }));
      $("grad-b").append(el("option", { value: m.name, text: m.label }));
      if (m.causal) $("gen-model").append(el("option", { value: m.name, text: m.label }));
    }
    const pick = (pref, fallback) => pref.find((n) => names.includes(n)) || fallback;
    S.model = pick(["gru"], names[0]);
    $("model").value = S.model;
    $("gen-model").value = pick(["lstm", "gru"], (S.models.find((m) => m.causal) || {}).name);
    $("grad-a").value = pick(["rnn"], names[0]);
    $("grad-b").value = pick(["lstm"], names[names.length - 1]);
  }

  function fillLayerDir() {
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

  async function read() {
    stop();
    showError("");
    const text = $("text").value;
    const seq = (S.readSeq = (S.readSeq || 0) + 1);
    let tr;
    try {
      tr = await api("/api/trace", { model: S.model, text, k: 5 });
    } catch (e) {
      if (seq === S.readSeq) showError(e.message);
      return;
    }
    if (seq !== S.readSeq) return; // a newer request is on its way
    S.tr = tr;
    fillLayerDir();
    S.pos = 0;
    S.gradTarget = null;
    renderAll();
    loadCard();
    loadNeuron();
    runCompare(text);
  }

  function setPos(p) {
    if (!S.tr) return;
    S.pos = Math.max(0, Math.min(S.tr.tokens.length - 1, p));
    renderStep();
  }
  function stop() {
    if (S.playing) clearInterval(S.playing);
    S.playing = null;
    $("play").textContent = "▶ Play";
    $("play").setAttribute("aria-label", "Play");
  }
  function play() {
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

  function renderAll() {
    renderTokens();
    renderStep();
  }

  function renderStep() {
    const T = S.tr.tokens.length;
    $("pos").textContent = `step ${S.pos + 1} / ${T}: “${S.tr.tokens[S.pos]}”`;
    for (const b of $("tokens").children) b.setAttribute("aria-current", Number(b.dataset.t) === S.pos ? "step" : "false");
    for (const b of $("tokens").children) b.classList.toggle("read", Number(b.dataset.t) <= S.pos);
    renderUnrolled();
    renderHeatmap($("heatmap"), hiddenOf(S.tr), { mode: "hidden" });
    renderDelta();
    renderPCA();
    renderGates();
    renderPred();
    renderSurprise();
    renderNeuronText();
    renderCompare();
  }

  const hiddenOf = (tr, l = S.layer, d = S.dir) => tr.hidden[Math.min(l, tr.layers - 1)][Math.min(d, tr.directions - 1)];

  function renderTokens() {
    const box = clear($("tokens"));
    S.tr.tokens.forEach((w, t) => {
      box.append(el("button", { type: "button", class: "tok", role: "listitem", "data-t": t, "aria-label": `step ${t + 1}: ${w}`, onclick: () => { stop(); setPos(t); } }, w));
    });
  }

  // The unrolled network: one box per step, all drawn with the same weights (same colours).
  function renderUnrolled() {
    const svg = clear($("unrolled"));
    const tr = S.tr, T = tr.tokens.length, L = tr.layers, D = tr.directions;
    const cw = 92, rowH = 62, top = 40, left = 36;
    const rows = L * D;
    const H = top + rows * rowH + 70;
    const W = left + T * cw + 20;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    svg.append(el("defs", {}, el("marker", { id: "arr", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" }, el("path", { d: "M0,0 L10,5 L0,10 z", fill: "#555" }))));
    const yIn = top + rows * rowH + 30;
    const pred = tr.causal ? "predicts next" : "fills in";
    svg.append(el("text", { x: 4, y: 12, class: "small", text: `top guess (${pred}):` }));
    for (let t = 0; t < T; t++) {
      const x = left + t * cw;
      const cur = t === S.pos, done = t <= S.pos;
      const g = el("g", { class: "step" + (cur ? " current" : "") + (done ? " done" : "") });
      // input word
      g.append(el("text", { x: x + cw / 2 - 8, y: yIn + 18, "text-anchor": "middle", class: "word", text: tr.tokens[t] }));
      // top prediction above
      const top1 = tr.steps[t].top[0];
      if (done) g.append(el("text", { x: x + cw / 2 - 8, y: 30, "text-anchor": "middle", class: "small pred", text: top1 ? top1[0] : "" }));
      for (let l = 0; l < L; l++) {
        for (let d = 0; d < D; d++) {
          const r = rows - 1 - (l * D + d);
          const y = top + r * rowH;
          const bx = x + 8, bw = cw - 32, bh = rowH - 26;
          const hv = tr.hidden[l][d][t];
          const norm = Math.sqrt(hv.reduce((s, v) => s + v * v, 0) / hv.length);
          const level = Math.min(1, norm * 1.6);
          const fill = done ? CM().viridis(level) : "#eee";
          g.append(el("rect", { x: bx, y: y + 10, width: bw, height: bh, rx: 6, fill, class: "cell" + (l === S.layer && d === S.dir ? " sel" : ""), "data-tip": `layer ${l + 1}${D > 1 ? (d ? " backward" : " forward") : ""}, step ${t + 1} (“${tr.tokens[t]}”): RMS of h = ${norm.toFixed(3)}` }));
          g.append(el("text", { x: bx + bw / 2, y: y + 10 + bh / 2 + 4, "text-anchor": "middle", class: "cell-label" + (done && level < 0.5 ? " light" : ""), text: `h${sub(t)}` }));
          // recurrent arrow from the previous (forward) or next (backward) step: W_hh
          const from = d === 0 ? t - 1 : t + 1;
          if (from >= 0 && from < T) {
            const x0 = d === 0 ? bx - 32 : bx + bw + 32;
            const x1 = d === 0 ? bx : bx + bw;
            g.append(el("line", { x1: x0, y1: y + 10 + bh / 2, x2: x1, y2: y + 10 + bh / 2, class: "w-hh", "marker-end": "url(#arr)", "data-tip": `W_hh: the same recurrent weights at every step` }));
          }
          // input arrow from below: W_xh (from the word for layer 1, from the layer below otherwise)
          g.append(el("line", { x1: bx + bw / 2, y1: y + 10 + bh + (l === 0 && d === 0 ? yIn - (y + 10 + bh) - 4 : 24), x2: bx + bw / 2, y2: y + 10 + bh, class: "w-xh", "marker-end": "url(#arr)", "data-tip": l === 0 ? "W_xh: the same input weights at every step" : "input from the layer below (same weights at every step)" }));
        }
      }
      if (cur) g.append(el("rect", { x: x + 2, y: 2, width: cw - 20, height: H - 4, rx: 8, class: "cursor" }));
      svg.append(g);
    }
    // name the shared weights once, on the first arrows
    const yMid = top + (rows - 1) * rowH + 10 + (rowH - 26) / 2;
    if (T > 1) svg.append(el("text", { x: left + 84, y: yMid - 8, "text-anchor": "middle", class: "small whh-label", text: "W_hh" }));
    svg.append(el("text", { x: left + (cw - 32) / 2 + 12, y: yIn - 8, class: "small wxh-label", text: "W_xh" }));
    keepVisible(svg, left + S.pos * cw, cw);
  }
  // scroll a wide diagram so that the current step stays in view
  function keepVisible(svg, x, w) {
    const box = svg.parentElement;
    if (!box || !box.classList.contains("scroll")) return;
    const scale = svg.getBoundingClientRect().width / Number(svg.getAttribute("width") || 1) || 1;
    const a = x * scale, b = (x + w) * scale;
    if (a < box.scrollLeft) box.scrollLeft = Math.max(0, a - 20);
    else if (b > box.scrollLeft + box.clientWidth) box.scrollLeft = b - box.clientWidth + 20;
  }
  const sub = (t) => String(t + 1).split("").map((c) => "₀₁₂₃₄₅₆₇₈₉"[Number(c)]).join("");

  // ---- heatmaps ---------------------------------------------------------------------------

  // units × steps; mode "hidden" (diverging, fixed ±1), "delta" (diverging, scaled), "gate" (viridis 0..1),
  // "signed" (diverging, scaled by max |v|)
  function renderHeatmap(svg, mat, opt) {
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
        svg.append(el("text", { x: left + t * cw + cw / 2, y: top - 6, class: "small tlabel" + (t === S.pos ? " cur" : ""), transform: `rotate(-40 ${left + t * cw + cw / 2} ${top - 6})`, text: w }));
      });
    }
    svg.append(el("text", { x: 2, y: top + 8, class: "small", text: "unit 0" }));
    svg.append(el("text", { x: 2, y: top + H * rh, class: "small", text: String(H - 1) }));
    const g = el("g", { class: "cells" });
    for (let t = 0; t < T; t++) {
      const shown = t <= S.pos;
      for (let u = 0; u < H; u++) {
        const v = mat[t][u];
        g.append(el("rect", {
          x: left + t * cw, y: top + u * rh, width: cw - 1, height: rh,
          fill: shown ? color(v) : "#f1f1f1", "data-t": t, "data-u": u, "data-v": shown ? v : null,
          "data-tip": shown ? `${opt.name || "h"}: unit ${u}, step ${t + 1} (“${S.tr.tokens[t]}”) = ${fmt(v)}` : null,
        }));
      }
    }
    svg.append(g);
    // current-step outline and selected unit
    svg.append(el("rect", { x: left + S.pos * cw - 1, y: top - 1, width: cw + 1, height: H * rh + 2, class: "cursor" }));
    if (S.unit < H) svg.append(el("rect", { x: left - 4, y: top + S.unit * rh, width: T * cw + 6, height: rh, class: "unit-sel" }));
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
      svg.append(el("rect", { x: lx, y: top + (i * H * rh) / 21, width: 10, height: (H * rh) / 21 + 0.5, fill: color(v) }));
    }
    const hi = opt.mode === "gate" ? "1" : fmt(max, max < 10 ? 2 : 0);
    const lo = opt.mode === "gate" ? "0" : "−" + fmt(max, max < 10 ? 2 : 0);
    svg.append(el("text", { x: lx + 13, y: top + 8, class: "small", text: hi }));
    svg.append(el("text", { x: lx + 13, y: top + H * rh, class: "small", text: lo }));
  }

  function renderDelta() {
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
      svg.append(el("rect", { x: left + t * cw + 2, y: y0 + bh - hh, width: cw - 5, height: hh, class: "bar" + (t === S.pos ? " cur" : ""), "data-tip": `‖Δh‖ at step ${t + 1} (“${S.tr.tokens[t]}”) = ${n.toFixed(3)}` }));
    });
  }

  function renderPCA() {
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
    svg.append(el("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" }));
    svg.append(el("line", { x1: pad, y1: pad, x2: pad, y2: H - pad, class: "axis" }));
    svg.append(el("text", { x: W - pad, y: H - 8, "text-anchor": "end", class: "small", text: "PC1" }));
    svg.append(el("text", { x: 4, y: pad - 8, class: "small", text: "PC2" }));
    const shown = pts.slice(0, S.pos + 1);
    svg.append(el("polyline", { points: shown.map((q) => `${sx(q[0])},${sy(q[1])}`).join(" "), class: "traj" }));
    shown.forEach((q, t) => {
      const cur = t === S.pos;
      svg.append(el("circle", { cx: sx(q[0]), cy: sy(q[1]), r: cur ? 7 : 4, fill: CM().viridis(t / Math.max(1, pts.length - 1)), class: cur ? "pt cur" : "pt", "data-tip": `step ${t + 1} (“${S.tr.tokens[t]}”): (${fmt(q[0], 2)}, ${fmt(q[1], 2)})` }));
      svg.append(el("text", { x: sx(q[0]) + 8, y: sy(q[1]) - 6, class: "small" + (cur ? " cur" : ""), text: S.tr.tokens[t] }));
    });
  }

  const GATE_INFO = {
    r: ["reset gate r", "how much of the old state the candidate may use (0 = ignore the past)"],
    z: ["update gate z", "how much of the old state to keep (1 = keep, 0 = overwrite with the candidate)"],
    n: ["candidate n", "the new content proposed from the word and the (reset) past"],
    i: ["input gate i", "how much new content to write into the cell"],
    f: ["forget gate f", "how much of the old cell to keep (1 = remember)"],
    g: ["candidate g", "the new content proposed for the cell"],
    o: ["output gate o", "how much of the cell to show as the hidden state"],
    cell: ["cell state c", "the LSTM's long-term memory: changed only by adding and forgetting"],
  };

  function renderGates() {
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
      const svg = el("svg", { class: "heat gate", role: "img", "aria-label": title, "data-gate": name });
      const fig = el("figure", {}, el("figcaption", {}, el("b", { text: title }), ": " + what), el("div", { class: "scroll" }, svg));
      box.append(fig);
      const mode = ["r", "z", "i", "f", "o"].includes(name) ? "gate" : "signed";
      renderHeatmap(svg, g[name], { mode, name, rowH: g[name][0].length > 96 ? 2 : 4, noLabels: false });
    }
  }

  // ---- predictions ------------------------------------------------------------------------

  function bars(box, top, highlight) {
    clear(box);
    const mx = Math.max(...top.map((q) => q[1]), 1e-9);
    for (const [w, p] of top) {
      box.append(el("div", { class: "barrow" + (w === highlight ? " hit" : ""), "data-word": w, "data-p": p },
        el("span", { class: "w", text: w }),
        el("span", { class: "track" }, el("span", { class: "fill", style: `width:${(100 * p) / mx}%` })),
        el("span", { class: "p", text: pct(p) })));
    }
  }

  function renderPred() {
    const s = S.tr.steps[S.pos];
    $("pred-explain").textContent = S.tr.causal
      ? `After reading “${S.tr.tokens[S.pos]}” the model expects next:`
      : `The bidirectional model fills in the word at this step from the words on both sides (it never sees the word itself):`;
    bars($("bars"), s.top, s.target);
    $("target").textContent = s.target === null
      ? "(end of the text: nothing came next)"
      : `${S.tr.causal ? "Next word" : "The word there"} was “${s.target}”: p = ${pct(s.p)}, surprise = ${fmt(s.bits, 2)} bits.`;
  }

  function renderSurprise() {
    const svg = clear($("surprise"));
    const st = S.tr.steps, T = st.length;
    const cw = Math.max(30, Math.min(60, 560 / T)), left = 34, top = 10, h = 120;
    const W = left + T * cw + 10, H = top + h + 50;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", W);
    svg.setAttribute("height", H);
    const mx = Math.max(4, ...st.map((s) => s.bits || 0));
    const y = (b) => top + h - (h * b) / mx;
    for (const b of [0, Math.round(mx / 2), Math.floor(mx)]) {
      svg.append(el("line", { x1: left, y1: y(b), x2: W - 10, y2: y(b), class: "gridline" }));
      svg.append(el("text", { x: left - 4, y: y(b) + 4, "text-anchor": "end", class: "small", text: b }));
    }
    const pts = [];
    st.forEach((s, t) => {
      if (s.bits === null || t > S.pos) return;
      const x = left + t * cw + cw / 2;
      pts.push(`${x},${y(s.bits)}`);
    });
    svg.append(el("polyline", { points: pts.join(" "), class: "traj" }));
    st.forEach((s, t) => {
      const x = left + t * cw + cw / 2;
      if (s.target !== null) svg.append(el("text", { x, y: top + h + 14, "text-anchor": "end", transform: `rotate(-35 ${x} ${top + h + 14})`, class: "small" + (t === S.pos ? " cur" : ""), text: s.target }));
      if (s.bits === null || t > S.pos) return;
      svg.append(el("circle", { cx: x, cy: y(s.bits), r: t === S.pos ? 6 : 4, class: "pt" + (t === S.pos ? " cur" : ""), fill: CM().viridis(1 - Math.min(1, s.bits / mx)), "data-tip": `“${s.target}”: p = ${pct(s.p)}, ${fmt(s.bits, 2)} bits` }));
    });
  }

  // ---- compare ----------------------------------------------------------------------------

  async function runCompare(text) {
    S.compare = {};
    const seq = (S.cmpSeq = (S.cmpSeq || 0) + 1);
    const box = clear($("compare"));
    box.append(el("p", { class: "hint", text: "Reading with every model…" }));
    const res = await Promise.all(S.models.map((m) => api("/api/trace", { model: m.name, text, k: 3 }).catch((e) => ({ error: e.message, model: m.name, label: m.label }))));
    if (seq !== S.cmpSeq) return;
    for (const r of res) S.compare[r.model] = r;
    renderCompare();
  }

  function renderCompare() {
    const box = clear($("compare"));
    for (const m of S.models) {
      const tr = S.compare[m.name];
      const col = el("div", { class: "cmp" + (m.name === S.model ? " current" : ""), "data-model": m.name });
      col.append(el("h3", { text: m.label }));
      if (!tr) { col.append(el("p", { class: "hint", text: "…" })); box.append(col); continue; }
      if (tr.error) { col.append(el("p", { class: "error", text: tr.error })); box.append(col); continue; }
      // align on the same word: next-word models start with a ⟨s⟩ step, a fill-in model does not
      const shift = (tr.tokens[0] === START ? 1 : 0) - (S.tr.tokens[0] === START ? 1 : 0);
      const p = Math.max(0, Math.min(S.pos + shift, tr.tokens.length - 1));
      const l = tr.layers - 1; // the top layer feeds the prediction
      const hv = tr.hidden[l][0];
      const svg = el("svg", { class: "heat mini", role: "img", "aria-label": `${m.label} hidden state` });
      col.append(el("div", { class: "scroll" }, svg));
      renderMini(svg, tr, hv, p);
      const s = tr.steps[p];
      col.append(el("p", { class: "small", text: tr.causal ? `after “${tr.tokens[p]}”, next:` : `word at “${tr.tokens[p]}” from both sides:` }));
      const bx = el("div", { class: "bars small" });
      bars(bx, s.top, s.target);
      col.append(bx);
      col.append(el("p", { class: "small", text: s.target === null ? "" : `p(“${s.target}”) = ${pct(s.p)}` }));
      col.append(el("p", { class: "small", text: `mean surprise ${fmt(tr.mean_bits, 2)} bits/word · ${tr.params.toLocaleString()} params` }));
      box.append(col);
    }
  }

  function renderMini(svg, tr, hv, p) {
    const T = hv.length, H = hv[0].length;
    const cw = Math.max(6, Math.min(18, 200 / T)), rh = H > 64 ? 1.5 : 3;
    const W = T * cw + 2, Ht = H * rh + 2;
    svg.setAttribute("viewBox", `0 0 ${W} ${Ht}`);
    for (let t = 0; t <= p; t++) for (let u = 0; u < H; u++) svg.append(el("rect", { x: t * cw, y: u * rh, width: cw - 0.5, height: rh, fill: CM().diverging(hv[t][u], 1) }));
    svg.append(el("rect", { x: p * cw, y: 0, width: cw, height: H * rh, class: "cursor" }));
  }

  // ---- gradients ---------------------------------------------------------------------------

  const LONG = "The cat that my grandmother found in the garden last summer when it was raining sat on the";
  const PRESETS = ["The cat sat on the mat", "I love eating", "She went to the", "The boys near the door are happy", "Mary said that she was tired"];

  async function runGrads() {
    const text = $("grad-text").value || $("text").value;
    const names = [$("grad-a").value, $("grad-b").value];
    const box = clear($("grads"));
    box.append(el("p", { class: "hint", text: "Computing ∂loss/∂h_t through time…" }));
    const seq = (S.gradSeq = (S.gradSeq || 0) + 1);
    let res;
    try {
      res = await Promise.all(names.map((n) => {
        const causal = info(n).causal;
        const body = { model: n, text };
        if (S.gradTarget !== null) body.position = causal ? S.gradTarget - 1 : S.gradTarget;
        return api("/api/gradients", body);
      }));
    } catch (e) {
      if (seq === S.gradSeq) clear(box).append(el("p", { class: "error", role: "alert", text: e.message }));
      return;
    }
    if (seq !== S.gradSeq) return;
    clear(box);
    renderGradPick(res[0]);
    // one y-range for both panels, so heights compare
    let lo = Infinity, hi = -Infinity;
    const series = res.map((r) => {
      const T = r.tokens.length;
      const v = [];
      for (let t = 0; t < T; t++) {
        let s = 0;
        for (const dd of r.norms[0]) s += dd[t] * dd[t]; // first layer, all directions
        v.push(Math.sqrt(s));
      }
      for (const x of v) if (x > 0) { lo = Math.min(lo, Math.log10(x)); hi = Math.max(hi, Math.log10(x)); }
      return v;
    });
    lo = Math.floor(lo); hi = Math.ceil(hi);
    if (!isFinite(lo)) { lo = -8; hi = 0; }
    if (hi === lo) hi = lo + 1;
    res.forEach((r, i) => box.append(gradPanel(r, series[i], lo, hi)));
  }

  function renderGradPick(r) {
    const box = clear($("grad-pick"));
    const first = r.causal ? 1 : 0;
    r.tokens.forEach((w, j) => {
      if (j < first) return;
      box.append(el("button", { type: "button", class: "tok" + (j === r.target_index ? " picked" : ""), "aria-pressed": j === r.target_index ? "true" : "false", text: w, onclick: () => { S.gradTarget = j; runGrads(); } }));
    });
  }

  function gradPanel(r, v, lo, hi) {
    const T = r.tokens.length;
    const cw = Math.max(24, Math.min(56, 600 / T)), left = 46, top = 14, h = 170;
    const W = left + T * cw + 10, H = top + h + 60;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: "grad", role: "img", "aria-label": `gradient norms, ${r.label}` });
    const y = (x) => top + h - (h * (Math.log10(x) - lo)) / (hi - lo);
    for (let e = lo; e <= hi; e++) {
      svg.append(el("line", { x1: left, y1: y(10 ** e), x2: W - 10, y2: y(10 ** e), class: "gridline" }));
      svg.append(el("text", { x: left - 4, y: y(10 ** e) + 4, "text-anchor": "end", class: "small", text: `1e${e}` }));
    }
    v.forEach((x, t) => {
      const bx = left + t * cw + 3;
      const tgt = t === r.target_index;
      if (x > 0) {
        const yy = Math.max(top, y(x));
        svg.append(el("rect", { x: bx, y: yy, width: cw - 6, height: top + h - yy, class: "gbar", fill: CM().viridis((Math.log10(x) - lo) / (hi - lo)), "data-t": t, "data-g": x, "data-tip": `‖∂loss/∂h‖ at step ${t + 1} (“${r.tokens[t]}”) = ${x.toExponential(2)}` }));
      }
      svg.append(el("text", { x: bx + cw / 2, y: top + h + 14, "text-anchor": "end", transform: `rotate(-40 ${bx + cw / 2} ${top + h + 14})`, class: "small" + (tgt ? " cur" : ""), text: r.tokens[t] }));
    });
    const first = v.find((x) => x > 0), lastIdx = r.causal ? r.position : r.position;
    const ratio = first && v[lastIdx] ? v[lastIdx] / first : null;
    return el("figure", { class: "gradfig", "data-model": r.model },
      el("figcaption", {}, el("b", { text: r.label }), ` · loss at “${r.target}” = ${fmt(r.loss, 2)} nats` + (ratio ? ` · last/first step ratio ${ratio.toExponential(1)}` : "")),
      el("div", { class: "scroll" }, svg));
  }

  // ---- generate ----------------------------------------------------------------------------

  async function runGenerate() {
    const box = clear($("gen-out"));
    clear($("gen-dist"));
    try {
      S.gen = await api("/api/generate", { model: $("gen-model").value, prompt: $("gen-prompt").value, length: 15, temperature: Number($("temp").value), k: 6 });
    } catch (e) {
      box.append(el("p", { class: "error", role: "alert", text: e.message }));
      return;
    }
    box.append(el("span", { class: "prompt", text: S.gen.prompt_tokens.filter((w) => w !== "⟨s⟩").join(" ") }));
    box.dataset.done = "0";
    const gen = S.gen;
    // reveal the words one by one, as the model produced them
    gen.steps.forEach((s, i) => setTimeout(() => {
      if (S.gen !== gen) return;
      box.append(el("button", { type: "button", class: "tok gen", "data-i": i, "data-tip": `p = ${pct(s.p)}`, text: s.token, onclick: () => showGenStep(i) }));
      showGenStep(i);
      if (i === gen.steps.length - 1) box.dataset.done = "1";
    }, 180 * i));
  }
  function showGenStep(i) {
    S.genPick = i;
    const s = S.gen.steps[i];
    for (const b of $("gen-out").querySelectorAll("button")) b.setAttribute("aria-pressed", Number(b.dataset.i) === i ? "true" : "false");
    const box = $("gen-dist");
    bars(box, s.top, s.token);
    box.prepend(el("p", { class: "small", text: `Distribution when “${s.token}” was sampled (temperature ${S.gen.temperature}):` }));
  }

  // ---- neuron ------------------------------------------------------------------------------

  function selectUnit(u) {
    S.unit = u;
    $("unit").value = u;
    renderStep();
    loadNeuron();
  }
  function renderNeuronText() {
    const box = clear($("neuron-text"));
    const h = hiddenOf(S.tr);
    const u = Math.min(S.unit, h[0].length - 1);
    box.append(el("p", { class: "small", text: `Unit ${u} (layer ${S.layer + 1}${S.tr.directions > 1 ? (S.dir ? ", backward" : ", forward") : ""}) over this sentence:` }));
    const line = el("p", { class: "colored" });
    S.tr.tokens.forEach((w, t) => {
      const v = h[t][u];
      line.append(el("span", { class: "ctok", tabindex: 0, style: `background:${CM().diverging(v, 1)};color:${CM().inkOnDiverging(v, 1)}`, "data-v": v, "data-tip": `unit ${u} after “${w}” = ${fmt(v)}`, text: w }), " ");
    });
    box.append(line);
  }
  async function loadNeuron() {
    if (!S.tr) return;
    const box = clear($("neuron"));
    let d;
    try {
      d = await api("/api/neuron", { model: S.model, layer: S.layer, direction: S.dir, unit: S.unit, k: 10 });
    } catch (e) {
      box.append(el("p", { class: "error", text: e.message }));
      return;
    }
    if (d.note) { box.append(el("p", { class: "hint", text: d.note })); return; }
    const list = (title, rows) => el("div", {}, el("h4", { text: title }), el("ol", { class: "ctx" }, rows.map((r) => el("li", {}, el("span", { class: "before", text: r.before + " " }), el("mark", { style: `background:${CM().diverging(r.value, 1)};color:${CM().inkOnDiverging(r.value, 1)}`, text: r.token }), el("span", { class: "small", text: ` ${fmt(r.value, 3)}` })))));
    box.append(el("div", { class: "two" }, list("Excites it most (held-out text)", d.top), list("Drives it lowest", d.bottom)));
  }

  // ---- model card --------------------------------------------------------------------------

  async function loadCard() {
    let c;
    try { c = await api(`/api/models/${encodeURIComponent(S.model)}`); } catch (e) { return; }
    const rows = [
      ["Architecture", `${c.label}: embedding → ${c.layers} × ${c.cell.toUpperCase()} layer${c.layers > 1 ? "s" : ""}${c.directions > 1 ? " (bidirectional)" : ""} of ${c.hidden_size} units → softmax over ${c.vocab_size.toLocaleString()} ${c.level === "char" ? "characters" : "words"}`],
      ["Task", c.causal ? "next-word prediction (language model)" : "fill in the blank: each word from the words before and after it"],
      ["Parameters", c.params.toLocaleString()],
      ["Training data", c.data || "–"],
      ["Validation perplexity", c.val_ppl === null ? "–" : `${c.val_ppl.toFixed(2)} (as unsure as a fair choice among ${c.val_ppl.toFixed(0)} words)`],
    ];
    const tb = el("table", { class: "kv" }, rows.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: v }))));
    clear($("model-card")).append(tb);
    drawCurve(c.curve);
  }
  function drawCurve(curve) {
    const svg = clear($("curve"));
    const W = 420, H = 200, left = 40, top = 10, bottom = 30;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const all = [...curve.train, ...curve.val];
    if (!all.length) { svg.append(el("text", { x: 10, y: 30, class: "small", text: "no training log for this model" })); return; }
    const xmax = Math.max(...all.map((q) => q[0]), 1);
    const ymin = Math.min(...all.map((q) => q[1])), ymax = Math.max(...all.map((q) => q[1]));
    const sx = (x) => left + ((W - left - 10) * x) / xmax;
    const sy = (y) => top + (H - top - bottom) * (1 - (y - ymin) / (ymax - ymin || 1));
    svg.append(el("line", { x1: left, y1: H - bottom, x2: W - 10, y2: H - bottom, class: "axis" }));
    svg.append(el("text", { x: W - 10, y: H - 8, "text-anchor": "end", class: "small", text: `step (max ${xmax})` }));
    svg.append(el("text", { x: left - 4, y: sy(ymax) + 4, "text-anchor": "end", class: "small", text: ymax.toFixed(1) }));
    svg.append(el("text", { x: left - 4, y: sy(ymin) + 4, "text-anchor": "end", class: "small", text: ymin.toFixed(1) }));
    if (curve.train.length) svg.append(el("polyline", { points: curve.train.map((q) => `${sx(q[0])},${sy(q[1])}`).join(" "), class: "traj train" }));
    if (curve.val.length) svg.append(el("polyline", { points: curve.val.map((q) => `${sx(q[0])},${sy(q[1])}`).join(" "), class: "traj val" }));
    curve.val.forEach((q) => svg.append(el("circle", { cx: sx(q[0]), cy: sy(q[1]), r: 3, class: "pt val", "data-tip": `step ${q[0]}: val loss ${q[1]}` })));
    svg.append(el("text", { x: left + 10, y: top + 12, class: "small legend-train", text: "— train" }));
    svg.append(el("text", { x: left + 70, y: top + 12, class: "small legend-val", text: "— validation" }));
  }

  // ---- wiring ------------------------------------------------------------------------------

  function wire() {
    $("read-form").addEventListener("submit", (e) => { e.preventDefault(); read(); });
    $("model").addEventListener("change", () => { S.model = $("model").value; read(); });
    $("play").addEventListener("click", play);
    $("fwd").addEventListener("click", () => { stop(); setPos(S.pos + 1); });
    $("back").addEventListener("click", () => { stop(); setPos(S.pos - 1); });
    $("first").addEventListener("click", () => { stop(); setPos(0); });
    $("last").addEventListener("click", () => { stop(); if (S.tr) setPos(S.tr.tokens.length - 1); });
    $("speed").addEventListener("input", () => { if (S.playing) { stop(); play(); } });
    $("layer").addEventListener("change", () => { S.layer = Number($("layer").value); renderStep(); loadNeuron(); });
    $("dir").addEventListener("change", () => { S.dir = Number($("dir").value); renderStep(); loadNeuron(); });
    $("unit").addEventListener("change", () => {
      const u = Math.max(0, Math.min(Number($("unit").max), Math.floor(Number($("unit").value) || 0)));
      selectUnit(u);
    });
    $("grad-form").addEventListener("submit", (e) => { e.preventDefault(); runGrads(); });
    $("grad-text").addEventListener("change", () => { S.gradTarget = null; });
    $("grad-long").addEventListener("click", () => { $("grad-text").value = LONG; S.gradTarget = null; runGrads(); });
    $("gen-form").addEventListener("submit", (e) => { e.preventDefault(); runGenerate(); });
    $("temp").addEventListener("input", () => { $("temp-out").textContent = $("temp").value; });
    document.addEventListener("keydown", (e) => {
      const tag = (e.target.tagName || "").toLowerCase();
      if (["input", "select", "textarea"].includes(tag) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === " " && tag !== "button") { e.preventDefault(); play(); }
      else if (e.key === "ArrowRight") { e.preventDefault(); stop(); setPos(S.pos + 1); }
      else if (e.key === "ArrowLeft") { e.preventDefault(); stop(); setPos(S.pos - 1); }
      else if (e.key === "Home") { e.preventDefault(); stop(); setPos(0); }
      else if (e.key === "End") { e.preventDefault(); stop(); if (S.tr) setPos(S.tr.tokens.length - 1); }
    });
  }

  async function start() {
    wire();
    $("grad-text").value = LONG;
    for (const p of PRESETS) $("presets").append(el("button", { type: "button", class: "tok", text: p, onclick: () => { $("text").value = p; read(); } }));
    try {
      await loadModels();
    } catch (e) {
      showError("Cannot reach the model server: " + e.message);
      return;
    }
    if (!S.models.length) { showError("This server has no models."); return; }
    await read();
    runGrads();
    document.body.dataset.ready = "1";
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
