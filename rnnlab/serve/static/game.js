// The RNN Game: Beat the RNN, the memory challenge and "be the hidden state".
// Everything is computed by the server (/api/game/...); the token to guess is only ever
// sent after the guess for it is committed, so this page cannot peek even if it wanted to.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const HS_KEY = "rnnlab.game.highscores.v1";
  // Okabe–Ito: colour-blind-safe line colours for the models
  const COLOURS = ["#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000"];

  function el(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else e.setAttribute(k, v);
    }
    for (const k of kids) e.append(k);
    return e;
  }
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    return e;
  };

  async function api(path, body) {
    const opts = body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    };
    const r = await fetch(path, opts);
    let data = null;
    try { data = await r.json(); } catch (e) { data = { detail: r.statusText }; }
    if (!r.ok) throw new Error(typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail));
    return data;
  }
  function showError(id, err) {
    const p = $(id);
    if (!err) { p.hidden = true; p.textContent = ""; return; }
    p.hidden = false;
    p.textContent = String(err.message || err);
  }
  // how a token is shown: a space as ␣ so a character game stays readable
  const show = (t) => (t === " " ? "␣" : t === "\n" ? "⏎" : t);
  const fmt = (x, d = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));

  // ---------------------------------------------------------------- tabs
  const tabs = ["beat", "memory", "hidden"];
  function selectTab(name) {
    for (const t of tabs) {
      const on = t === name;
      $("tab-" + t).setAttribute("aria-selected", String(on));
      $("tab-" + t).tabIndex = on ? 0 : -1;
      $("panel-" + t).hidden = !on;
    }
    if (name === "memory" && !memory.loaded) loadMemory();
    if (location.hash !== "#" + name) history.replaceState(null, "", "#" + name);
  }
  for (const t of tabs) $("tab-" + t).addEventListener("click", () => selectTab(t));
  $("tab-beat").parentElement.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const i = tabs.findIndex((t) => $("tab-" + t).getAttribute("aria-selected") === "true");
    const j = (i + (e.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length;
    selectTab(tabs[j]);
    $("tab-" + tabs[j]).focus();
  });

  // ---------------------------------------------------------------- Beat the RNN
  const beat = { state: null, history: [], busy: false, pendingNext: false };

  async function loadModels() {
    try {
      const d = await api("/api/game/models");
      const sel = $("beat-model");
      sel.textContent = "";
      for (const m of d.models) {
        sel.append(el("option", { value: m.name, text: `${m.label} (${m.level}s)` }));
      }
      const gru = d.models.find((m) => m.name === "gru");
      if (gru) sel.value = "gru";
      $("beat-start").disabled = !d.models.length;
      if (!d.models.length) showError("beat-error", "this server has no next-word model to play against");
    } catch (e) { showError("beat-error", e); }
  }

  async function startGame(ev) {
    if (ev) ev.preventDefault();
    showError("beat-error", null);
    try {
      const s = await api("/api/game/new", {
        model: $("beat-model").value, mode: $("beat-mode").value,
        sentences: Number($("beat-len").value),
      });
      beat.history = [];
      beat.pendingNext = false;
      $("beat-summary").hidden = true;
      $("beat-result").hidden = true;
      $("beat-play").hidden = false;
      renderState(s);
    } catch (e) { showError("beat-error", e); }
  }

  function renderState(s) {
    beat.state = s;
    if (s.finished) { finish(s); return; }
    const unit = s.unit === "char" ? "character" : "word";
    $("beat-pos").textContent = `Sentence ${s.sentence} of ${s.n_sentences} · ${unit} ${s.step + 1}`;
    renderScore(s.scores);
    const toks = $("beat-tokens");
    toks.textContent = "";
    s.shown.forEach((t, i) => {
      const h = beat.history[i - (s.shown.length - beat.history.length)];
      const chip = el("span", { class: "tok read", role: "listitem", text: show(t) });
      if (h) {
        chip.classList.add(h.you.correct ? "you-ok" : "you-miss");
        chip.title = `you: ${h.guess} ${h.you.correct ? "✓" : "✗"} · RNN: ${h.rnn.guess} ${h.rnn.correct ? "✓" : "✗"}`;
        chip.append(el("span", { class: "marks", "aria-hidden": "true",
          text: (h.you.correct ? "✓" : "✗") + (h.rnn.correct ? "✓" : "✗") }));
      }
      toks.append(chip);
    });
    toks.append(el("span", { class: "tok next", role: "listitem", "aria-label": "the next token, hidden", text: "?" }));
    const easy = s.mode === "easy";
    $("beat-typed").hidden = easy;
    $("keys-easy").hidden = !easy;
    $("keys-typed").hidden = easy;
    const box = $("beat-choices");
    box.textContent = "";
    box.hidden = !easy;
    if (easy) {
      s.choices.forEach((c, i) => {
        const b = el("button", { type: "button", class: "choice", "data-choice": c, text: `${i + 1} · ${show(c)}` });
        b.addEventListener("click", () => commit(c));
        box.append(b);
      });
    } else {
      $("beat-guess").value = "";
      $("beat-guess").maxLength = s.unit === "char" ? 1 : 50;
      $("beat-guess").placeholder = s.unit === "char" ? "one character" : "one word";
    }
    for (const o of $("beat-conf").options) o.disabled = Number(o.value) < s.min_confidence;
    if (Number($("beat-conf").value) < s.min_confidence) $("beat-conf").value = "0.5";
    $("beat-ask").hidden = false;
    $("beat-next").hidden = true;
    if (easy) box.querySelector("button")?.focus();
    else $("beat-guess").focus();
  }

  function renderScore(sc) {
    const u = beat.state && beat.state.unit === "char" ? "char" : "word";
    $("beat-score").textContent = sc.n
      ? `You ${sc.you.correct}/${sc.n} right · ${fmt(sc.you.bits_per_token)} bits/${u}   vs   RNN ${sc.rnn.correct}/${sc.n} right · ${fmt(sc.rnn.bits_per_token)} bits/${u}`
      : "No guesses yet";
  }

  async function commit(guess) {
    if (beat.busy || !beat.state || beat.state.finished || beat.pendingNext) return;
    if (!guess) { showError("beat-error", "type a guess first"); return; }
    beat.busy = true;
    showError("beat-error", null);
    try {
      const r = await api("/api/game/guess", {
        session: beat.state.session, guess, confidence: Number($("beat-conf").value),
      });
      beat.history.push(r.result);
      renderResult(r);
      if (r.sentence_done) {
        beat.history = [];
        beat.pendingNext = !r.state.finished;
        // show the completed sentence until the player moves on
        const toks = $("beat-tokens");
        toks.querySelector(".tok.next")?.remove();
        const last = el("span", { class: "tok read " + (r.result.you.correct ? "you-ok" : "you-miss"), role: "listitem", text: show(r.result.truth) });
        last.append(el("span", { class: "marks", "aria-hidden": "true", text: (r.result.you.correct ? "✓" : "✗") + (r.result.rnn.correct ? "✓" : "✗") }));
        toks.append(last);
        $("beat-ask").hidden = true;
        renderScore(r.state.scores);
        if (r.state.finished) { beat.state = r.state; finish(r.state); }
        else { beat.state = r.state; $("beat-next").hidden = false; $("beat-next").focus(); }
      } else {
        renderState(r.state);
      }
    } catch (e) { showError("beat-error", e); }
    beat.busy = false;
  }

  function verdict(ok, guess, bits) {
    return `${show(guess)} ${ok ? "✓ right" : "✗ wrong"} (${fmt(bits)} bits)`;
  }

  function renderResult(r) {
    const res = r.result;
    $("beat-result").hidden = false;
    $("r-truth").textContent = show(res.truth);
    $("r-you").textContent = verdict(res.you.correct, res.guess, res.you.bits) + ` · you were ${Math.round(res.confidence * 100)}% sure`;
    $("r-you").className = res.you.correct ? "ok" : "miss";
    $("r-rnn").textContent = verdict(res.rnn.correct, res.rnn.guess, res.rnn.bits) + ` · p(truth) = ${fmt(res.rnn.p_truth, 3)}`;
    $("r-rnn").className = res.rnn.correct ? "ok" : "miss";
    const bars = $("r-top");
    bars.textContent = "";
    const truthKey = res.truth.toLowerCase();
    for (const [w, p] of res.rnn.top) {
      const row = el("div", { class: "barrow" + (w.toLowerCase() === truthKey ? " hit" : "") });
      const fill = el("span", { class: "fill" });
      fill.style.width = `${Math.max(0.5, p * 100)}%`;
      row.append(el("span", { class: "w", text: show(w) }), el("span", { class: "track" }, fill),
        el("span", { class: "p", text: `${(p * 100).toFixed(1)}%` }));
      bars.append(row);
    }
    const done = $("r-sentence");
    done.hidden = !r.sentence_done;
    if (r.sentence_done) {
      const sc = r.sentence_scores;
      done.textContent = `Sentence: “${r.sentence_text}”. This sentence: you ${sc.you.correct}/${sc.n} (${fmt(sc.you.bits_per_token)} bits/${beat.state.unit}), RNN ${sc.rnn.correct}/${sc.n} (${fmt(sc.rnn.bits_per_token)} bits/${beat.state.unit}).`;
    }
  }

  function finish(s) {
    $("beat-play").hidden = true;
    const sum = s.summary;
    $("beat-summary").hidden = false;
    $("s-text").textContent = sum.text;
    const tb = $("s-table");
    tb.textContent = "";
    for (const [who, k] of [["You", "you"], [`RNN (${sum.label})`, "rnn"]]) {
      tb.append(el("tr", {}, el("th", { scope: "row", text: who }),
        el("td", { text: `${sum[k].correct} / ${sum.n}` }), el("td", { text: fmt(sum[k].bits, 1) }),
        el("td", { text: fmt(sum[k].bits_per_token) })));
    }
    const you = sum.you.bits_per_token, rnn = sum.rnn.bits_per_token;
    $("s-verdict").textContent = you === null ? "" : you < rnn
      ? "You beat the RNN: your predictions were less surprised than its."
      : you === rnn ? "A draw." : "The RNN wins this round: its predictions were less surprised than yours.";
    saveHighScore(sum);
    $("beat-again").focus();
  }

  function highScores() {
    try { return JSON.parse(localStorage.getItem(HS_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveHighScore(sum) {
    if (!sum.n) return;
    const all = highScores();
    all.push({ you: sum.you.bits_per_token, rnn: sum.rnn.bits_per_token, correct: sum.you.correct,
      n: sum.n, unit: sum.unit, model: sum.label, mode: sum.mode, sentences: sum.sentences.length,
      date: new Date().toISOString().slice(0, 16).replace("T", " ") });
    all.sort((a, b) => a.you - b.you);
    try { localStorage.setItem(HS_KEY, JSON.stringify(all.slice(0, 10))); } catch (e) { /* storage off */ }
    renderHighScores();
  }
  function renderHighScores() {
    const tb = $("hs-table");
    tb.textContent = "";
    const all = highScores();
    if (!all.length) {
      tb.append(el("tr", {}, el("td", { colspan: "7", class: "small", text: "No games yet." })));
      return;
    }
    all.forEach((h, i) => tb.append(el("tr", {}, el("td", { text: String(i + 1) }),
      el("td", { text: `${fmt(h.you)} bits/${h.unit}` }), el("td", { text: fmt(h.rnn) }),
      el("td", { text: `${h.correct}/${h.n}` }), el("td", { text: h.model }),
      el("td", { text: `${h.mode}, ${h.sentences} sent.` }), el("td", { text: h.date }))));
  }

  $("beat-setup").addEventListener("submit", startGame);
  $("beat-again").addEventListener("click", () => startGame());
  $("beat-typed").addEventListener("submit", (e) => {
    e.preventDefault();
    const v = $("beat-guess").value;
    commit(beat.state && beat.state.unit === "char" ? v : v.trim());
  });
  $("beat-next").addEventListener("click", () => {
    beat.pendingNext = false;
    $("beat-result").hidden = true;
    renderState(beat.state);
  });
  $("hs-clear").addEventListener("click", () => { localStorage.removeItem(HS_KEY); renderHighScores(); });
  document.addEventListener("keydown", (e) => {
    if ($("panel-beat").hidden || !beat.state || beat.state.mode !== "easy" || beat.pendingNext) return;
    if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    const i = Number(e.key) - 1;
    if (i >= 0 && i < (beat.state.choices || []).length && !$("beat-play").hidden) commit(beat.state.choices[i]);
  });

  // ---------------------------------------------------------------- memory challenge
  const memory = { loaded: false, seed: 0, answers: {}, data: null };

  async function loadMemory() {
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

  async function answerLevel(lv, choice, li) {
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
        if (m.error) { bars.append(el("p", { class: "small", text: `${m.label}: ${m.error}` })); continue; }
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
      }
      out.append(bars);
      out.append(el("p", { class: "small", text: `Black mark: with the other clue, “${r.other_prompt} …”.` }));
      renderMemScore();
    } catch (e) { showError("mem-error", e); }
  }

  function renderMemScore() {
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

  async function loadCurve() {
    try {
      const d = await api(`/api/game/memory/curve?kind=${encodeURIComponent($("mem-kind").value)}`);
      drawCurve(d);
    } catch (e) { showError("mem-error", e); }
  }

  function drawCurve(d) {
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
      const vals = m[measure];
      const pts = vals.map((a, i) => `${x(i)},${y(a)}`).join(" ");
      svg.append(svgEl("polyline", { points: pts, fill: "none", stroke: colour, "stroke-width": 2.5, "stroke-dasharray": dashes[k % dashes.length] }));
      vals.forEach((a, i) => {
        const c = svgEl("circle", { cx: x(i), cy: y(a), r: 4, fill: colour });
        const tt = svgEl("title", {});
        tt.textContent = `${m.label}, level ${i + 1}: clue remembered in ${(m.paired[i] * 100).toFixed(0)}% of pairs, ${(m.accuracy[i] * 100).toFixed(0)}% right, mean p(right) ${fmt(m.p_right[i])}`;
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

  // ---------------------------------------------------------------- be the hidden state
  const hid = { session: null, slots: [], current: null, busy: false };

  async function hiddenStart() {
    showError("hid-error", null);
    try {
      const d = await api("/api/game/hidden/new", { slots: 4, length: 10 });
      hid.session = d.session;
      hid.slots = Array(d.slots).fill(null);
      $("hid-slots-n").textContent = String(d.slots);
      $("hid-play").hidden = false;
      $("hid-q").hidden = true;
      $("hid-next").hidden = false;
      $("hid-result").textContent = "";
      renderSlots();
      await hiddenNext();
    } catch (e) { showError("hid-error", e); }
  }

  function renderSlots() {
    const box = $("hid-slots");
    box.textContent = "";
    hid.slots.forEach((s, i) => {
      const b = el("button", { type: "button", class: "slot", "aria-label": `Slot ${i + 1}: ${s ? s.key + " = " + s.value : "empty"}${hid.current ? ", click to store " + hid.current.key + " = " + hid.current.value : ""}` },
        el("span", { class: "slot-n", text: `slot ${i + 1}` }), el("span", { class: "slot-v", text: s ? `${s.key} = ${s.value}` : "—" }));
      b.disabled = !hid.current;
      b.addEventListener("click", () => { if (hid.current) { hid.slots[i] = hid.current; renderSlots(); } });
      box.append(b);
    });
  }

  async function hiddenNext() {
    if (hid.busy) return;
    hid.busy = true;
    try {
      const d = await api("/api/game/hidden/next", { session: hid.session });
      if (d.fact) {
        hid.current = d.fact;  // the previous fact is gone unless it was stored in a slot
        $("hid-pos").textContent = `Fact ${d.step} of ${d.length}`;
        $("hid-fact").textContent = `${d.fact.key} = ${d.fact.value}`;
      } else {
        hid.current = null;
        $("hid-pos").textContent = "The facts are over.";
        $("hid-fact").textContent = "";
        $("hid-next").hidden = true;
        $("hid-question").textContent = d.question;
        $("hid-q").hidden = false;
        $("hid-answer").value = "";
        $("hid-answer").focus();
      }
      renderSlots();
    } catch (e) { showError("hid-error", e); }
    hid.busy = false;
  }

  $("hid-start").addEventListener("click", hiddenStart);
  $("hid-next").addEventListener("click", hiddenNext);
  $("hid-q").addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const r = await api("/api/game/hidden/answer", { session: hid.session, answer: Number($("hid-answer").value) });
      $("hid-q").hidden = true;
      const out = $("hid-result");
      out.textContent = "";
      out.append(el("p", { class: r.correct ? "ok" : "miss", text: r.correct ? `✓ Right: ${r.key} = ${r.answer}.` : `✗ ${r.key} was last set to ${r.answer}.` }));
      out.append(el("p", { class: "explain", text: `It was set ${r.distance} fact${r.distance === 1 ? "" : "s"} before the end, and ${r.keys_after} other letter${r.keys_after === 1 ? "" : "s"} came after it. With ${r.slots} slots, anything that ${r.slots} newer letters push out is lost: a fixed-size memory has to decide what to keep, which is exactly what an LSTM's forget gate and a GRU's update gate learn.` }));
      out.append(el("p", { class: "small", text: "All facts: " + r.facts.map((f) => `${f.key}=${f.value}`).join(", ") }));
    } catch (err) { showError("hid-error", err); }
  });

  // ---------------------------------------------------------------- start
  renderHighScores();
  loadModels();
  const fromHash = () => {
    const h = location.hash.slice(1);
    selectTab(tabs.includes(h) ? h : "beat");
  };
  window.addEventListener("hashchange", fromHash);
  fromHash();
})();
