// /inside views 2 and 3: select & match (LSTMVis, live) and connectivity (Distill's
// memorization heat). `ctx` comes from inside.js (current model, text, tokens, helpers).
import { $, api, clear, el } from "./lib.js";

const level = (ctx) => (ctx.entry() || {}).level || "word";

// ---- select & match --------------------------------------------------------------------

export function initMatch(ctx) {
  const sel = { start: null, end: null, result: null };
  ctx.state.match = sel;

  function drawTokens() {
    const box = clear($("sel-tokens"));
    ctx.state.tokens.forEach((t, i) => {
      const on = sel.start !== null && i >= sel.start && i <= (sel.end ?? sel.start);
      box.append(el("button", { class: "tok" + (on ? " sel" : ""), "data-i": i, text: ctx.label(t), onclick: () => click(i) }));
    });
  }

  function click(i) {
    if (sel.start === null || sel.end !== null) { sel.start = i; sel.end = null; }
    else { [sel.start, sel.end] = [Math.min(sel.start, i), Math.max(sel.start, i)]; }
    drawTokens();
    if (sel.end !== null) search();
    else $("sel-info").textContent = "now click the last token of the range";
  }

  async function search() {
    try {
      const r = await api("/api/inside/select", {
        model: ctx.model(), text: ctx.text(), start: sel.start, end: sel.end,
        threshold: +$("threshold").value, state: $("sel-state").value, layer: +$("sel-layer").value,
        detector: $("sel-detector").value || null,
      });
      sel.result = r;
      draw(r);
      ctx.fail(null);
    } catch (e) { ctx.fail(e); }
  }

  function draw(r) {
    const n = r.units.length;
    $("sel-info").textContent = n
      ? `${n} unit${n > 1 ? "s" : ""} on over tokens ${sel.start}–${sel.end}: ${r.units.slice(0, 24).join(", ")}${n > 24 ? ", …" : ""} · ${r.matches.length} held-out match${r.matches.length === 1 ? "" : "es"} (${(1000 * r.seconds).toFixed(0)} ms)`
      : "no unit is above the threshold at every selected token: lower the threshold or select fewer tokens";
    const box = clear($("matches"));
    const lv = level(ctx);
    for (const m of r.matches) {
      // aligned on the match: left context right-aligned, the match, right context
      const len = m.end - m.start + 1;
      const parts = [[0, m.offset], [m.offset, m.offset + len], [m.offset + len, m.tokens.length]];
      const text = ([a, b]) => m.tokens.slice(a, b).map((t) => ctx.shown(t, lv).replace("\n", "↵")).join("");
      const line = el("div", { class: "match", "data-start": m.start, "data-end": m.end },
        ...parts.map((p, j) => el("span", { class: ["left", "hit", "right"][j], text: text(p) })));
      const top = Math.max(1e-9, ...m.track.map(Math.abs));
      const track = el("div", { class: "trackline", title: `detector “${r.detector}” over these tokens` });
      for (const [a, b] of parts) {
        const cell = el("span", { class: "trkrow" });
        for (const v of m.track.slice(a, b)) cell.append(el("span", { class: "trk" + (v > 0 ? " on" : ""), style: `opacity:${(0.25 + (0.75 * Math.abs(v)) / top).toFixed(2)}` }));
        track.append(cell);
      }
      box.append(line, track);
    }
  }

  ctx.onRead(() => { sel.start = sel.end = null; drawTokens(); clear($("matches")); $("sel-info").textContent = "click the first token of a range"; });
  $("threshold").addEventListener("change", () => sel.end !== null && search());
}

// ---- connectivity ----------------------------------------------------------------------

export function initConnectivity(ctx) {
  const st = { t: null, rows: [], asked: 0 };
  ctx.state.conn = st;

  function fillOthers() {
    const box = clear($("conn-model"));
    const me = ctx.entry();
    box.append(el("option", { value: "", text: "none" }));
    for (const m of ctx.state.models) {
      if (m.name !== me.name && m.level === me.level) box.append(el("option", { value: m.name, text: m.label }));
    }
    if (box.options.length > 1) box.selectedIndex = 1;
  }

  function drawTokens() {
    const box = clear($("conn-tokens"));
    ctx.state.tokens.forEach((t, i) => box.append(el("button", {
      class: "tok" + (i === st.t ? " at" : ""), "data-i": i, disabled: i === 0 ? "disabled" : null,
      text: ctx.label(t), onclick: () => pick(i),
    })));
  }

  async function pick(t) {
    st.t = t;
    drawTokens();
    const names = [ctx.model(), $("conn-model").value].filter(Boolean);
    const ask = ++st.asked; // a later click wins over answers still on their way
    try {
      const rows = [];
      for (const name of names) {
        try { rows.push(await api("/api/inside/connectivity", { model: name, text: ctx.text(), t })); }
        catch (e) { rows.push({ model: name, error: String(e.message || e) }); }
      }
      if (ask !== st.asked) return;
      st.rows = rows;
      draw();
      ctx.fail(null);
    } catch (e) { ctx.fail(e); }
  }

  function draw() {
    const box = clear($("conn-rows"));
    const lv = level(ctx);
    for (const r of st.rows) {
      if (r.error) { box.append(el("p", { class: "hint", text: `${r.model}: ${r.error}` })); continue; }
      const max = Math.max(1e-12, ...r.grad);
      const heat = el("div", { class: "heat", "data-model": r.model, "data-t": r.t });
      r.grad.forEach((g, s) => heat.append(el("span", {
        "data-g": g, title: `‖∂ log p / ∂ x_${s}‖ = ${g.toExponential(3)}`,
        style: `background:rgba(230,97,1,${(g / max).toFixed(3)})`, text: ctx.shown(r.tokens[s], lv).replace("\n", "↵"),
      })));
      heat.append(el("span", { class: "target", text: ctx.shown(r.tokens[r.t], lv).replace("\n", "↵") }));
      box.append(el("h3", { text: `${r.label}: log p(“${r.tokens[r.t]}”) = ${r.logp.toFixed(3)}` }), heat);
    }
  }

  ctx.onRead(() => {
    fillOthers();
    drawTokens();
    if (ctx.state.tokens.length > 1) pick(Math.min(st.t || ctx.state.tokens.length - 1, ctx.state.tokens.length - 1));
  });
  $("conn-model").addEventListener("change", () => st.t && pick(st.t));
}
