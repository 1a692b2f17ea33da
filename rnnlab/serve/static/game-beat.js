// Beat the RNN: guess each next token before the RNN does, scored in bits (/api/game/new,
// /api/game/guess); the token to guess only ever arrives after the guess for it is committed.
// Also the local high-score table (localStorage).

import { $, el, api, showError, markUnk } from "./lib.js";

export const HS_KEY = "rnnlab.game.highscores.v1";

// how a token is shown: a space as ␣ so a character game stays readable
export const show = (t) => (t === " " ? "␣" : t === "\n" ? "⏎" : t);
export const fmt = (x, d = 2) => (x === null || x === undefined ? "–" : Number(x).toFixed(d));

// ---------------------------------------------------------------- Beat the RNN
export const beat = { state: null, history: [], played: [], busy: false, pendingNext: false };

export async function loadModels() {
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

export async function startGame(ev) {
  if (ev) ev.preventDefault();
  showError("beat-error", null);
  try {
    const s = await api("/api/game/new", {
      model: $("beat-model").value, mode: $("beat-mode").value,
      sentences: Number($("beat-len").value),
    });
    beat.history = [];
    beat.played = [];
    beat.pendingNext = false;
    $("beat-summary").hidden = true;
    $("beat-result").hidden = true;
    $("beat-play").hidden = false;
    renderState(s);
  } catch (e) { showError("beat-error", e); }
}

export function renderState(s) {
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

export function renderScore(sc) {
  const u = beat.state && beat.state.unit === "char" ? "char" : "word";
  $("beat-score").textContent = sc.n
    ? `You ${sc.you.correct}/${sc.n} right · ${fmt(sc.you.bits_per_token)} bits/${u}   vs   RNN ${sc.rnn.correct}/${sc.n} right · ${fmt(sc.rnn.bits_per_token)} bits/${u}`
    : "No guesses yet";
}

export async function commit(guess) {
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
      beat.played.push({ text: r.sentence_text, shown: [...beat.state.shown, r.result.truth], marks: beat.history });
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

export const pctText = (p) => `${(100 * p).toFixed(p < 0.1 ? 1 : 0)}%`;

export function verdict(ok, guess, bits) {
  return `${show(guess)} ${ok ? "✓ right" : "✗ wrong"} (${fmt(bits)} bits)`;
}

export function renderResult(r) {
  const res = r.result;
  $("beat-result").hidden = false;
  $("r-truth").textContent = show(res.truth);
  $("r-you").textContent = verdict(res.you.correct, res.guess, res.you.bits) + ` · you were ${pctText(res.confidence)} sure`;
  $("r-you").className = res.you.correct ? "ok" : "miss";
  // a typed guess outside the model's vocabulary can never be right: say so on the guess
  if (res.you.unk) $("r-you").append(" · ", markUnk(el("span", { text: `“${res.guess}” is not a ${beat.state.unit} this model knows` }), true, beat.state.level));
  // the RNN by the same rule: as sure as its own real probability for its pick
  $("r-rnn").textContent = verdict(res.rnn.correct, res.rnn.guess, res.rnn.bits) + ` · it was ${pctText(res.rnn.confidence)} sure`;
  $("r-own").textContent = `The RNN's own probability for “${show(res.truth)}”: ${pctText(res.rnn.p_truth)} (plain surprise −log₂ p = ${fmt(res.rnn.own_bits)} bits, for reference).`;
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

export function finish(s) {
  $("beat-play").hidden = true;
  const sum = s.summary;
  $("beat-summary").hidden = false;
  $("s-text").textContent = sum.text;
  const tb = $("s-table");
  tb.textContent = "";
  const row = (who, side, correct) => tb.append(el("tr", {}, el("th", { scope: "row", text: who }),
    el("td", { text: correct }), el("td", { text: fmt(side.bits, 1) }),
    el("td", { text: fmt(side.bits_per_token) }), el("td", { text: fmt(side.bits_per_char) })));
  row("You", sum.you, `${sum.you.correct} / ${sum.n}`);
  row(`RNN (${sum.label})`, sum.rnn, `${sum.rnn.correct} / ${sum.n}`);
  row("RNN, plain surprise (reference)", { bits: sum.rnn.own_bits_per_token * sum.n,
    bits_per_token: sum.rnn.own_bits_per_token, bits_per_char: sum.rnn.own_bits_per_char }, "");
  const [lo, hi] = sum.shannon_bits_per_char;
  $("s-yard").textContent = `Yardstick: Shannon (1951) put printed English at ${lo}–${hi} bits per character for a person guessing with the whole text before them; you scored ${fmt(sum.you.bits_per_char)} and the RNN ${fmt(sum.rnn.bits_per_char)} bits per character here.`;
  const you = sum.you.bits_per_token, rnn = sum.rnn.bits_per_token;
  $("s-verdict").textContent = you === null ? "" : you < rnn
    ? "You beat the RNN: your predictions were less surprised than its."
    : you === rnn ? "A draw." : "The RNN wins this round: its predictions were less surprised than yours.";
  renderPlayed();
  saveHighScore(sum);
  $("beat-again").focus();
}

// the round's sentences, each word guessed with its ✓/✗ for you and for the RNN
export function renderPlayed() {
  const box = $("s-sentences");
  box.textContent = "";
  for (const p of beat.played) {
    const line = el("p", { class: "tokens", role: "list" });
    p.shown.forEach((t, i) => {
      const h = p.marks[i - (p.shown.length - p.marks.length)];
      const chip = el("span", { class: "tok read" + (h ? (h.you.correct ? " you-ok" : " you-miss") : ""), role: "listitem", text: show(t) });
      if (h) chip.append(el("span", { class: "marks", text: (h.you.correct ? "✓" : "✗") + (h.rnn.correct ? "✓" : "✗") }));
      line.append(chip);
    });
    box.append(el("li", {}, line));
  }
}

export function highScores() {
  try { return JSON.parse(localStorage.getItem(HS_KEY) || "[]"); } catch (e) { return []; }
}
export function saveHighScore(sum) {
  if (!sum.n) return;
  const all = highScores();
  all.push({ you: sum.you.bits_per_token, rnn: sum.rnn.bits_per_token, correct: sum.you.correct,
    n: sum.n, unit: sum.unit, model: sum.label, mode: sum.mode, sentences: sum.sentences.length,
    date: new Date().toISOString().slice(0, 16).replace("T", " ") });
  // ranked per mode (easy and hard are different games), lowest bits first; 10 kept per mode
  const kept = [];
  for (const mode of ["easy", "typed"]) kept.push(...all.filter((h) => h.mode === mode).sort((a, b) => a.you - b.you).slice(0, 10));
  try { localStorage.setItem(HS_KEY, JSON.stringify(kept)); } catch (e) { /* storage off */ }
  renderHighScores();
}
const MODE_NAME = { easy: "Easy", typed: "Hard" };
export function renderHighScores() {
  const tb = $("hs-table");
  tb.textContent = "";
  const all = highScores();
  if (!all.length) {
    tb.append(el("tr", {}, el("td", { colspan: "7", class: "small", text: "No games yet." })));
    return;
  }
  for (const mode of ["easy", "typed"]) {
    const rows = all.filter((h) => h.mode === mode).sort((a, b) => a.you - b.you);
    if (!rows.length) continue;
    tb.append(el("tr", { class: "hs-mode", "data-mode": mode }, el("th", { colspan: "7", scope: "rowgroup", text: `${MODE_NAME[mode]} mode` })));
    rows.forEach((h, i) => tb.append(el("tr", { "data-mode": mode }, el("td", { text: String(i + 1) }),
      el("td", { text: `${fmt(h.you)} bits/${h.unit}` }), el("td", { text: fmt(h.rnn) }),
      el("td", { text: `${h.correct}/${h.n}` }), el("td", { text: h.model }),
      el("td", { text: `${h.sentences} sent.` }), el("td", { text: h.date }))));
  }
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

