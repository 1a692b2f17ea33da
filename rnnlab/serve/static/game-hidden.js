// Be the hidden state: remember a stream of facts in a few slots, then answer a question
// (/api/game/hidden/new, /next, /answer).

import { $, el, api, showError } from "./lib.js";

// ---------------------------------------------------------------- be the hidden state
export const hid = { session: null, slots: [], current: null, busy: false };
const TALLY = "rnnlab.game.hidden.v1"; // the score across games, in this browser
const tally = () => { try { return JSON.parse(localStorage.getItem(TALLY)) || { right: 0, games: 0 }; } catch (e) { return { right: 0, games: 0 }; } };

export async function hiddenStart() {
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

export function renderSlots() {
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

export async function hiddenNext() {
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
    // the same slots with no choice of what to keep: always write the newest fact
    out.append(el("p", { class: "explain", id: "hid-newest", text: r.newest === null
      ? `A memory of ${r.slots} slots that always stores the newest fact (no gate deciding what to keep) would have lost ${r.key}: newer letters pushed it out.`
      : `A memory of ${r.slots} slots that always stores the newest fact would have answered ${r.newest}${r.newest === r.answer ? " (right: this time the newest facts were enough)" : ""}.` }));
    out.append(el("p", { class: "small", text: "All facts: " + r.facts.map((f) => `${f.key}=${f.value}`).join(", ") }));
    const t = tally();
    t.games += 1; t.right += r.correct ? 1 : 0;
    try { localStorage.setItem(TALLY, JSON.stringify(t)); } catch (err2) { /* storage off */ }
    out.append(el("p", { class: "score", id: "hid-tally", text: `Your score across games: ${t.right} of ${t.games} right.` }));
  } catch (err) { showError("hid-error", err); }
});

