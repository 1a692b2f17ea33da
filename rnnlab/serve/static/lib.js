// What every page of the explorer shares (an ES module: `import { $, el } from "/static/lib.js"`).
// CSP-safe: elements are built with the DOM (no innerHTML, no inline styles or handlers).
//
//   el("button", { class: "tok", text: "cat", onclick: pick })    -> <button class="tok">cat</button>
//   svg("rect", { x: 0, y: 0, width: 4, height: 4, fill: "#eee" }) -> an SVG <rect>
//   const d = await api("/api/trace", { model: "gru", text: "The cat" })   // POST JSON
//   showError("error", e)   // shows e.message in #error; showError("error", null) hides it

const SVGNS = "http://www.w3.org/2000/svg";

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** Remove every child of `node`; returns it. */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// attrs: "text" sets textContent, "onX" a listener, "style" the CSSOM (the CSP forbids style
// attributes); null / undefined / false leave the attribute out. kids: nodes or strings.
function build(node, attrs, kids) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k.startsWith("on") && typeof v === "function") node.addEventListener(k.slice(2), v);
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const c of kids.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

/** An HTML element: el(tag, attrs, ...kids). */
export function el(tag, attrs, ...kids) {
  return build(document.createElement(tag), attrs, kids);
}

/** An SVG element, same signature as `el`. */
export function svg(tag, attrs, ...kids) {
  return build(document.createElementNS(SVGNS, tag), attrs, kids);
}

/** Fetch JSON: GET without `body`; POST a Blob as is, anything else as JSON. A reply that is
 * not 2xx throws an Error carrying the server's message (its `detail`). */
export async function api(path, body, headers) {
  let opt = {};
  if (body instanceof Blob) opt = { method: "POST", body, headers: headers || { "Content-Type": body.type || "application/octet-stream" } };
  else if (body !== undefined) opt = { method: "POST", headers: { "Content-Type": "application/json", ...(headers || {}) }, body: JSON.stringify(body) };
  const r = await fetch(path, opt);
  let d = null;
  try { d = await r.json(); } catch (e) { d = { detail: r.statusText }; }
  if (!r.ok) throw new Error(typeof d.detail === "string" ? d.detail : JSON.stringify(d.detail || r.statusText));
  return d;
}

/** Show `err` (an Error or a message) in the element `target` (an id or the element); a falsy
 * `err` hides it. */
export function showError(target, err) {
  const box = typeof target === "string" ? $(target) : target;
  const msg = err ? String(err.message || err) : "";
  box.textContent = msg;
  box.hidden = !msg;
}

// ---- unknown tokens: what the model could not read ----------------------------------------
// The server flags, aligned with the tokens, those the model reads as <unk> (a word model) or
// as the unknown character U+FFFD (a char model): draw them dashed and muted, with this title.

/** The tooltip of a token the model reads as unknown; `level` is "word" or "char". */
export const unkTip = (level) => (level === "char"
  ? "not in this model's vocabulary: read as the unknown character"
  : "not in this model's vocabulary: read as <unk>");

/** Mark `node` (an HTML or SVG element) as a token read as unknown when `unk` is true: class
 * `unk` and the tooltip (the title attribute, or a <title> child in SVG). Returns `node`. */
export function markUnk(node, unk, level) {
  if (!unk) return node;
  node.classList.add("unk");
  if (node instanceof SVGElement) node.append(svg("title", { text: unkTip(level) }));
  else node.setAttribute("title", unkTip(level));
  return node;
}
