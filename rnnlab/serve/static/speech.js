// Speech page: pick an FSDD recording, upload a WAV or record one; show the spectrogram, the
// per-frame CTC posteriors and the decoded digits (POST /api/speech/transcribe).
import { $, api, showError, svg as svgEl } from "./lib.js";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79"];
let audioUrl = null;

function status(msg) { $("sp-status").textContent = msg; }

function drawSpectrogram(spec) {
  const cv = $("sp-spec"), T = spec.length, F = spec[0].length;
  cv.width = T; cv.height = F;
  const ctx = cv.getContext("2d"), img = ctx.createImageData(T, F);
  let lo = Infinity, hi = -Infinity;
  for (const row of spec) for (const v of row) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) {
    const u = (spec[t][f] - lo) / (hi - lo || 1), i = 4 * ((F - 1 - f) * T + t);
    img.data[i] = 255 * Math.min(1, 1.6 * u); img.data[i + 1] = 255 * Math.max(0, u - 0.4) * 1.6;
    img.data[i + 2] = 90 + 120 * (1 - u); img.data[i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function drawPosteriors(d) {
  const box = $("sp-post"), legend = $("sp-legend");
  box.textContent = ""; legend.textContent = "";
  const P = d.posteriors, n = P.length, W = 900, H = 220, L = 40, R = 10, T = 10, B = 30;
  const x = (t) => L + ((t + 0.5) / n) * (W - L - R), y = (p) => T + (1 - p) * (H - T - B);
  const svg = box.appendChild(svgEl("svg", { viewBox: `0 0 ${W} ${H}` }));
  for (const p of [0, 0.5, 1]) {
    svg.appendChild(svgEl("line", { x1: L, x2: W - R, y1: y(p), y2: y(p), stroke: "#e3e3ea" }));
    svg.appendChild(svgEl("text", { x: L - 4, y: y(p) + 4, "text-anchor": "end" })).textContent = p;
  }
  svg.appendChild(svgEl("text", { x: (L + W) / 2, y: H - 6, "text-anchor": "middle" })).textContent =
    `time →  ${n} output frames of ${(d.frame_s * 1000).toFixed(0)} ms (${d.duration.toFixed(2)} s)`;
  for (let s = 0; s < 11; s++) {
    const pts = P.map((row, t) => `${x(t).toFixed(1)},${y(row[s]).toFixed(1)}`).join(" ");
    const color = s === 0 ? "#888" : COLORS[s - 1];
    const line = svg.appendChild(svgEl("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": s ? 2 : 1.5, "stroke-dasharray": s ? "" : "4 3" }));
    line.appendChild(svgEl("title", {})).textContent = d.symbols[s];
    if (s) {  // label the digit at its peaks above 0.5
      P.forEach((row, t) => {
        const prev = t ? P[t - 1][s] : 0, next = t < n - 1 ? P[t + 1][s] : 0;
        if (row[s] > 0.5 && row[s] >= prev && row[s] > next) {
          svg.appendChild(svgEl("text", { x: x(t), y: y(row[s]) - 4, "text-anchor": "middle", "font-size": 14, "font-weight": 700, fill: color })).textContent = d.symbols[s];
        }
      });
    }
    const item = document.createElement("span");
    item.style.setProperty("--c", color);
    item.textContent = d.symbols[s];
    legend.appendChild(item);
  }
}

function show(d, blob) {
  $("sp-result").hidden = false;
  $("sp-text").textContent = d.text || "(nothing recognised)";
  const pct = d.confidence.map((c) => `${Math.round(100 * c)}%`).join(" · ");
  $("sp-sure").textContent = !d.text ? "" : d.sure
    ? `sure of every digit (peak probability per digit: ${pct})`
    : `not sure: ${d.confidence.length ? "peak probability per digit " + pct + "; below 70% is a guess" : "the decoders disagree"}`;
  $("sp-sure").classList.toggle("unsure", !d.sure);
  const reads = d.features.kind === "mfcc"
    ? `The model reads ${d.features.dim} MFCCs per frame: the DCT of these bands, which keeps the shape of the spectrum (the vowel, the consonant) and drops the pitch harmonics, so voices differ less.`
    : "The model reads these bands.";
  $("sp-spec-cap").textContent = `log-mel spectrogram of ${d.name}: ${d.duration.toFixed(2)} s, ${d.spectrogram.length} frames of 10 ms, ${d.spectrogram[0] ? d.spectrogram[0].length : 40} mel bands (low frequencies at the bottom). ${reads}`;
  drawSpectrogram(d.spectrogram);
  drawPosteriors(d);
  if (audioUrl) URL.revokeObjectURL(audioUrl);
  audioUrl = blob ? URL.createObjectURL(blob) : null;
  $("sp-audio").src = blob ? audioUrl : `/api/speech/sample/${encodeURIComponent(d.name)}`;
  status(`decoded ${d.name} (${$("sp-beam").selectedOptions[0].text})`);
}

async function run(sample, blob) {
  showError("sp-error", null); status("transcribing…");
  const beam = $("sp-beam").value;
  try {
    const q = sample ? `sample=${encodeURIComponent(sample)}&beam=${beam}` : `beam=${beam}`;
    const d = await api(`/api/speech/transcribe?${q}`, blob || new Blob([]), { "Content-Type": "audio/wav" });
    show(d, blob);
  } catch (e) { showError("sp-error", e); status(""); }
}

// 16-bit PCM WAV from mono float samples (the recorder's output)
function encodeWav(samples, rate) {
  const buf = new ArrayBuffer(44 + 2 * samples.length), v = new DataView(buf);
  const str = (o, s) => { for (let i = 0; i < s.length; i++) v.setUint8(o + i, s.charCodeAt(i)); };
  str(0, "RIFF"); v.setUint32(4, 36 + 2 * samples.length, true); str(8, "WAVE"); str(12, "fmt ");
  v.setUint32(16, 16, true); v.setUint16(20, 1, true); v.setUint16(22, 1, true);
  v.setUint32(24, rate, true); v.setUint32(28, 2 * rate, true); v.setUint16(32, 2, true);
  v.setUint16(34, 16, true); str(36, "data"); v.setUint32(40, 2 * samples.length, true);
  samples.forEach((s, i) => v.setInt16(44 + 2 * i, Math.max(-1, Math.min(1, s)) * 32767, true));
  return new Blob([buf], { type: "audio/wav" });
}

let rec = null;
async function toggleRecord() {
  const btn = $("sp-rec");
  if (rec) {  // stop
    const { ctx, stream, chunks, node } = rec;
    rec = null;
    node.disconnect(); stream.getTracks().forEach((t) => t.stop());
    const n = chunks.reduce((a, c) => a + c.length, 0), all = new Float32Array(n);
    let o = 0; for (const c of chunks) { all.set(c, o); o += c.length; }
    btn.textContent = "● Record"; btn.setAttribute("aria-pressed", "false");
    const rate = ctx.sampleRate; ctx.close();
    run(null, encodeWav(all, rate));
    return;
  }
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { showError("sp-error", "this browser cannot record here (a microphone needs https or localhost)"); return; }
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const ctx = new AudioContext(), src = ctx.createMediaStreamSource(stream);
    const node = ctx.createScriptProcessor(4096, 1, 1), chunks = [];
    node.onaudioprocess = (e) => chunks.push(new Float32Array(e.inputBuffer.getChannelData(0)));
    src.connect(node); node.connect(ctx.destination);
    rec = { ctx, stream, chunks, node };
    btn.textContent = "■ Stop"; btn.setAttribute("aria-pressed", "true");
    status("recording: say a few digits, then press Stop");
  } catch (e) { showError("sp-error", `no microphone: ${e.message}`); }
}

async function init() {
  let m;
  try { m = await api("/api/speech/model"); } catch (e) { showError("sp-error", e); return; }
  if (!m.available) {
    $("sp-model").textContent = m.reason || "no model";
    $("sp-howto").hidden = false; $("sp-howto-cmd").textContent = m.how_to;
    return;
  }
  const t = (m.metrics || {}).test || {};
  const fig = t.wer !== undefined ? `: test accuracy ${(100 * t.acc).toFixed(1)}%, WER ${(100 * t.wer).toFixed(1)}%` : "";
  const c = m.card;
  const card = c ? ` Learned from ${c.data}; trained ${Math.round(c.training_seconds / 60)} min ` +
    `(${c.steps} steps); ${Math.round(100 * c.metrics.samples_accuracy)}% of the ${m.samples.length} ` +
    "recordings below are recognised." : "";
  $("sp-model").textContent = `model ${m.run} (${m.task} task, ${m.split.kind} split${fig}).${card}`;
  const sp = m.speakers || {};
  $("sp-voices").textContent = (sp.trained ? `Voices it learned from: ${sp.trained.join(", ")}. ` : "") +
    (sp.held_out ? `Speaker ${sp.held_out} was held out: ${(100 * sp.held_out_acc).toFixed(1)}% on a voice it never heard.` : (sp.unseen_note || ""));
  $("sp-inputs").hidden = false;
  let current = null;
  const box = $("sp-samples");
  for (const s of m.samples) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = s.replace(/\.wav$/, "").replace(/_/g, " · ");
    b.title = `play and transcribe ${s}`; b.setAttribute("aria-pressed", "false");
    b.addEventListener("click", async () => {
      for (const o of box.children) o.setAttribute("aria-pressed", String(o === b));
      current = s; await run(s, null); $("sp-audio").play().catch(() => {});
    });
    box.appendChild(b);
  }
  $("sp-file").addEventListener("change", (e) => { const f = e.target.files[0]; if (f) { current = null; run(null, f); } });
  $("sp-rec").addEventListener("click", toggleRecord);
  $("sp-beam").addEventListener("change", () => { if (current) run(current, null); });
}
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
