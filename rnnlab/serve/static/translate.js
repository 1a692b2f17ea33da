// The /translate page: fetch one translation with its encoder states, decoder choices and
// attention (POST /api/translate), then animate it: encoder columns fill in (forward from the
// left, backward from the right), then the decoder writes one word per step while the
// attention heatmap gains a row.
import { $, api, markUnk, svg as svgEl } from "./lib.js";

let data = null, phase = 0, timer = null, playing = true;

function chip(text, parent, cls) {
  const s = document.createElement("span");
  s.className = "tok " + (cls || "");
  s.textContent = text;
  parent.appendChild(s);
  return s;
}
function status(msg) { $("tr-status").textContent = msg; }

// one heatmap of encoder states: rows = dimensions, columns = source tokens
function drawStates(host, rows, shown) {
  host.textContent = "";
  const S = rows.length, D = rows[0].length, cw = 44, ch = 6, left = 4;
  const max = Math.max(1e-6, ...rows.flat().map(Math.abs));
  const svg = host.appendChild(svgEl("svg", { viewBox: `0 0 ${left + S * cw} ${D * ch}`, width: left + S * cw,
    height: D * ch, role: "img", "aria-label": "encoder hidden states" }));
  rows.forEach((col, j) => col.forEach((v, d) => {
    const r = svg.appendChild(svgEl("rect", { x: left + j * cw, y: d * ch, width: cw - 2, height: ch,
      fill: shown(j) ? Colormaps.diverging(v, max) : "#eee" }));
    r.appendChild(svgEl("title", {})).textContent = `token ${j + 1}, dim ${d}: ${v}`;
  }));
}

function drawAttention(nRows) {
  const host = $("att");
  host.textContent = "";
  if (!data.attention) {
    host.textContent = "This model was trained without attention (--no-attention): the decoder " +
      "reads one fixed summary of the sentence at every step, so there is nothing to show.";
    return;
  }
  const src = data.src_tokens, steps = data.steps;
  const cw = 54, ch = 24, left = 110, top = 70;
  const svg = host.appendChild(svgEl("svg", { viewBox: `0 0 ${left + src.length * cw + 10} ${top + steps.length * ch + 10}`,
    width: left + src.length * cw + 10, height: top + steps.length * ch + 10, role: "img",
    "aria-label": "attention weights: rows are output words, columns are source words" }));
  src.forEach((s, j) => {
    const t = svg.appendChild(svgEl("text", { x: left + j * cw + cw / 2, y: top - 8, transform:
      `rotate(-40 ${left + j * cw + cw / 2} ${top - 8})` }));
    t.textContent = s;
    markUnk(t, data.src_unk && data.src_unk[j], "word");
  });
  steps.forEach((st, i) => {
    const shown = i < nRows;
    const t = svg.appendChild(svgEl("text", { x: left - 8, y: top + i * ch + ch * 0.68, "text-anchor": "end",
      class: i === nRows - 1 ? "cur" : "" }));
    t.textContent = shown ? st.token : "";
    st.attention.forEach((a, j) => {
      const r = svg.appendChild(svgEl("rect", { class: "cell", x: left + j * cw, y: top + i * ch, width: cw,
        height: ch, fill: shown ? Colormaps.viridis(a) : "#f3f3f5" }));
      if (shown) r.appendChild(svgEl("title", {})).textContent = `${st.token} ← ${src[j]}: ${(100 * a).toFixed(1)}%`;
    });
  });
  if (nRows > 0) svg.appendChild(svgEl("rect", { class: "rowcur", x: left, y: top + (nRows - 1) * ch,
    width: src.length * cw, height: ch }));
}

function render() {
  const S = data.src_tokens.length, T = data.steps.length;
  const encDone = Math.min(phase, S); // encoder steps shown
  const decDone = Math.max(0, phase - S); // decoder words written
  // source chips: the forward reader's position is the current one
  const sc = $("src-chips");
  sc.textContent = "";
  data.src_tokens.forEach((s, j) => {
    const c = markUnk(chip(s, sc, j < encDone || S - 1 - j < encDone ? "read" : ""), data.src_unk && data.src_unk[j], "word");
    if (phase <= S && (j === encDone - 1 || j === S - encDone)) c.setAttribute("aria-current", "step");
    if (decDone > 0 && data.attention) {
      const a = data.steps[decDone - 1].attention[j];
      c.style.boxShadow = `inset 0 -4px 0 ${Colormaps.viridis(a)}`;
    }
  });
  drawStates($("enc-fwd"), data.encoder.forward, (j) => j < encDone);
  drawStates($("enc-bwd"), data.encoder.backward, (j) => S - 1 - j < encDone);
  const tc = $("tgt-chips");
  tc.textContent = "";
  data.steps.forEach((st, i) => {
    const c = chip(st.token, tc, i < decDone ? "read" : "hidden");
    if (i === decDone - 1) c.setAttribute("aria-current", "step");
  });
  $("out-text").textContent = decDone >= T ? data.text : "";
  const bars = $("dec-top");
  bars.textContent = "";
  if (decDone > 0) {
    const st = data.steps[decDone - 1];
    for (const [tok, p] of st.top) {
      const name = document.createElement("span");
      name.textContent = tok;
      const barBox = document.createElement("span");
      const fill = document.createElement("div");
      fill.className = "fill" + (tok === st.token ? " chosen" : "");
      fill.style.width = `${Math.max(1, 100 * p)}%`;
      barBox.appendChild(fill);
      const val = document.createElement("span");
      val.textContent = `${(100 * p).toFixed(1)}%`;
      bars.append(name, barBox, val);
    }
  }
  drawAttention(decDone);
  if (phase < S) status(`encoder: read ${encDone} of ${S} tokens in each direction`);
  else if (decDone < T) status(`decoder: wrote ${decDone} of ${T} words`);
  else status(`done: "${data.text}" (${data.beam === 1 ? "greedy" : "beam " + data.beam}, ` +
    `score ${data.score})` + (data.unknown.length ? `; unknown words: ${data.unknown.join(", ")}` : ""));
}

function total() { return data.src_tokens.length + data.steps.length; }
function tick() {
  if (!data || phase >= total()) { stop(); return; }
  phase += 1;
  render();
  if (phase >= total()) stop();
}
function stop() {
  clearInterval(timer);
  timer = null;
  $("tr-play").textContent = data && phase >= total() ? "Replay" : "Play";
}
function play() {
  if (phase >= total()) phase = 0;
  clearInterval(timer);
  timer = setInterval(tick, Number($("tr-speed").value));
  $("tr-play").textContent = "Pause";
}

async function run(text) {
  status("translating…");
  try {
    data = await api("/api/translate", { text, beam: Number($("tr-beam").value) });
    phase = 0;
    $("tr-play").disabled = $("tr-step").disabled = false;
    render();
    if (playing) play();
  } catch (e) { status("error: " + e.message); }
}

// the model card's scores, as the build measured them on the held-out test sentences
function cardLine(card) {
  if (!card) return "";
  const m = card.metrics, b = card.build_metrics || {};
  const beam = b.test_bleu_beam5 != null ? `, beam 5: BLEU ${b.test_bleu_beam5}, chrF ${b.test_chrf_beam5}` : "";
  const full = b.full_test_bleu_greedy != null
    ? ` On all ${b.full_test_sentences} test sentences, greedy BLEU ${b.full_test_bleu_greedy}.` : "";
  return ` Test (${b.test_sentences || "held-out"} English sentences never seen in training, all their ` +
    `references): greedy BLEU ${m.test_bleu_greedy}, chrF ${m.test_chrf_greedy}${beam}.${full}` +
    ` Trained ${Math.round(card.training_seconds / 60)} min (${card.steps} steps).`;
}

async function init() {
  $("tr-form").addEventListener("submit", (e) => { e.preventDefault(); run($("tr-text").value); });
  $("tr-play").addEventListener("click", () => {
    if (timer) { playing = false; stop(); } else { playing = true; play(); }
  });
  $("tr-step").addEventListener("click", () => { playing = false; stop(); tick(); });
  $("tr-speed").addEventListener("input", () => { if (timer) play(); });
  status("loading the model (the first visit may train a small one: about a minute)…");
  try {
    const info = await api("/api/translate/info");
    $("tr-model").textContent = `Model: ${info.cell.toUpperCase()} encoder–decoder, hidden ${info.hidden}, ` +
      `${info.attention ? "with" : "without"} attention, ${info.src_lang} → ${info.tgt_lang}, ` +
      `${info.run}` + (info.max_len ? `; sentences of at most ${info.max_len} words` : "") +
      `; vocabulary ${info.vocab.src} English / ${info.vocab.tgt} French words.`;
    $("tr-data").textContent = `Learned from: ${info.pairs}.` + cardLine(info.card);
    $("tr-data").classList.toggle("warn", info.numbers_only);
    const ex = $("tr-examples");
    for (const s of info.examples) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = s;
      b.addEventListener("click", () => { $("tr-text").value = s; run(s); });
      ex.appendChild(b);
    }
    if (info.examples.length) { $("tr-text").value = info.examples[0]; run(info.examples[0]); }
    else status("");
  } catch (e) { status("error: " + e.message); }
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
