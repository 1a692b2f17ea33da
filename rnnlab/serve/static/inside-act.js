// /inside view 4 (intervene: clamp a unit, compare side by side) and the guided tour (the
// cell's equation with the live numbers of the current step and unit, from /api/trace).
import { $, api, clear, el } from "./lib.js";

// ---- intervene -------------------------------------------------------------------------

export function initIntervene(ctx) {
  const st = { result: null };
  ctx.state.iv = st;

  function column(title, run, cls) {
    const lv = (ctx.entry() || {}).level;
    const join = (ts) => (lv === "char" ? ts.join("") : ts.join(" "));
    return el("div", { class: "iv-col " + cls },
      el("h3", { text: title }),
      el("ol", {}, ...run.top.map(([t, p]) => el("li", { "data-token": t, "data-p": p, text: `${JSON.stringify(t)}  ${(100 * p).toFixed(1)}%` }))),
      el("p", { class: "hint", text: "continuation (greedy):" }),
      el("div", { class: "cont", text: join(run.continuation) }));
  }

  async function run() {
    try {
      const body = {
        model: ctx.model(), text: ctx.text(), state: $("iv-state").value, layer: +$("iv-layer").value,
        unit: +$("iv-unit").value, from_step: +$("iv-from").value, value: +$("iv-value").value, length: 40,
      };
      const r = await api("/api/inside/intervene", body);
      st.result = r;
      const box = clear($("iv-out"));
      box.append(column("As the model is", r.base, "base"),
        column(`${body.state}${body.layer}·${body.unit} set to ${body.value} from token ${body.from_step} (“${r.tokens[body.from_step]}”) on`, r.clamped, "clamped"));
      ctx.fail(null);
    } catch (e) { ctx.fail(e); }
  }

  $("iv-run").addEventListener("click", run);
  ctx.onRead(() => { $("iv-from").max = Math.max(0, ctx.state.tokens.length - 1); });
}

// ---- guided tour -----------------------------------------------------------------------

const f3 = (v) => (v === undefined || v === null ? "?" : Number(v).toFixed(3));
const o3 = (v) => (v < 0 ? `(${f3(v)})` : f3(v)); // an operand: negatives in brackets

// the ideas in order; `eq` is always the live equation of the current step and unit
const IDEAS = [
  ["The hidden state is the memory", "After each token the network keeps one vector, h. Everything it knows about the text so far must fit in it."],
  ["One recurrent connection, the same weights at every step", "h_t is computed from the token x_t and the previous state h_{t−1} with the same matrices W and U at every step: weight sharing."],
  ["Reading token by token", "Press → to read the next token: the equation below is recomputed with its numbers."],
  ["An output at each step", "At every step the head turns h_t into a distribution over the next token."],
  ["Gates decide what to keep", "A GRU or LSTM mixes the old state and a candidate with gates between 0 (forget / closed) and 1 (keep / open)."],
  ["Backpropagation through time", "To learn, the error at a step is sent back through every earlier step, through the same U each time (see Connectivity)."],
  ["The vanishing gradient", "Multiplied by the same Jacobian at each step back, the gradient often shrinks: far tokens barely matter (the heat fades to the left)."],
  ["Why it is sequential", "h_t needs h_{t−1}, so steps cannot run in parallel. minGRU's gates read only x_t, so h_t = (1−z_t)h_{t−1} + z_t h̃_t is linear in h and a parallel scan computes all steps at once."],
];

function equation(cell, tr, layer, u, t) {
  const H = tr.hidden[layer][0], G = tr.gates[layer][0];
  const h = H[t][u], hp = t > 0 ? H[t - 1][u] : 0;
  if (cell === "gru") {
    const z = G.z[t][u], r = G.r[t][u], n = G.n[t][u];
    return [`r = σ(W_r x_t + U_r h_{t−1} + b_r) = ${f3(r)}`, `z = σ(W_z x_t + U_z h_{t−1} + b_z) = ${f3(z)}`,
      `n = tanh(W_n x_t + r·(U_n h_{t−1} + b_n)) = ${f3(n)}`,
      `h_t = (1 − z)·n + z·h_{t−1} = (1 − ${f3(z)})·${o3(n)} + ${f3(z)}·${o3(hp)} = ${f3(h)}`];
  }
  if (cell === "lstm") {
    const c = G.cell[t][u], cp = t > 0 ? G.cell[t - 1][u] : 0;
    const [i, f, g, o] = ["i", "f", "g", "o"].map((k) => G[k][t][u]);
    return [`i = ${f3(i)}, f = ${f3(f)}, g = ${f3(g)}, o = ${f3(o)}  (σ, σ, tanh, σ of W x_t + U h_{t−1} + b)`,
      `c_t = f·c_{t−1} + i·g = ${f3(f)}·${o3(cp)} + ${f3(i)}·${o3(g)} = ${f3(c)}`,
      `h_t = o·tanh(c_t) = ${f3(o)}·tanh(${f3(c)}) = ${f3(h)}`];
  }
  const a = Math.atanh(Math.max(-0.999999, Math.min(0.999999, h)));
  return [`h_t = tanh(W x_t + U h_{t−1} + b) = tanh(${f3(a)}) = ${f3(h)}   (h_{t−1} = ${f3(hp)})`];
}

export function initTour(ctx) {
  // pending: trace requests in flight; seq: only the newest answer is shown (an older read's
  // trace arriving late must not replace the current one or reset the stop)
  const st = { stop: 0, tr: null, lines: [], pending: 0, seq: 0 };
  ctx.state.tour = st;

  function render() {
    const box = clear($("tour"));
    const tr = st.tr;
    if (!tr) return;
    const T = tr.tokens.length;
    const t = Math.min(st.stop, T - 1);
    const [title, text] = IDEAS[Math.min(st.stop, IDEAS.length - 1)];
    const layer = Math.min(+$("iv-layer").value || 0, tr.hidden.length - 1);
    const u = Math.min(+$("iv-unit").value || 0, tr.hidden[layer][0][0].length - 1);
    st.lines = equation(tr.cell, tr, layer, u, t);
    const top = tr.steps[t].top.slice(0, 3).map(([w, p]) => `${JSON.stringify(w)} ${(100 * p).toFixed(0)}%`).join(", ");
    $("tour-pos").textContent = `stop ${st.stop + 1} / ${Math.max(T, IDEAS.length)} · token ${t} “${tr.tokens[t]}” · unit ${layer}·${u}`;
    const idea = Math.min(st.stop, IDEAS.length - 1);
    const conn = (ctx.state.conn || {}).rows ? ctx.state.conn.rows.find((r) => r.grad) : null;
    const live = idea >= 5 && conn && conn.grad.length > 1
      ? `Live, from Connectivity (predicting “${conn.tokens[conn.t]}”): ‖∂ log p / ∂ x_s‖ = ${conn.grad[conn.t - 1].toExponential(2)} for the token just before, ${conn.grad[0].toExponential(2)} for the first, ${conn.t - 1} steps further back.`
      : null;
    box.append(el("h3", { text: title }), el("p", { text }), live && el("p", { class: "live", text: live }),
      el("div", { class: "eq", "data-t": t, "data-unit": u }, ...st.lines.map((s) => el("div", { text: s }))),
      el("p", { class: "hint", text: `next-token guess at this step: ${top}` }));
  }

  function go(d) {
    if (!st.tr) return;
    const n = Math.max(st.tr.tokens.length, IDEAS.length);
    st.stop = Math.max(0, Math.min(n - 1, st.stop + d));
    render();
  }

  async function load() {
    const my = ++st.seq;
    st.pending += 1;
    try {
      const tr = await api("/api/trace", { model: ctx.model(), text: ctx.text(), k: 3 });
      if (my !== st.seq) return;
      st.tr = { ...tr, cell: (ctx.entry() || {}).cell };
      st.stop = 0;
      render();
    } catch (e) { if (my === st.seq) ctx.fail(e); } finally { st.pending -= 1; }
  }

  $("tour-prev").addEventListener("click", () => go(-1));
  $("tour-next").addEventListener("click", () => go(1));
  $("tour").addEventListener("keydown", (e) => {
    if (e.key === "ArrowRight") { go(1); e.preventDefault(); }
    if (e.key === "ArrowLeft") { go(-1); e.preventDefault(); }
  });
  for (const id of ["iv-unit", "iv-layer"]) $(id).addEventListener("change", render);
  ctx.onRead(load);
}
