// Colour-blind-safe colour maps computed here (no library): viridis for [0, 1] quantities
// (gates, probabilities) and a blue–white–orange diverging map for signed values
// (hidden states, changes). Blue/orange stay distinct under the common colour-vision
// deficiencies; every cell also shows its exact value on hover.
(function () {
  "use strict";
  const clamp = (x) => (x < 0 ? 0 : x > 1 ? 1 : x);
  // viridis, 6th-degree polynomial fit (Matt Zucker's, public domain)
  const C = [
    [0.2777273272234177, 0.005407344544966578, 0.3340998053353061],
    [0.1050930431085774, 1.404613529898575, 1.384590162594685],
    [-0.3308618287255563, 0.214847559468213, 0.09509516302823659],
    [-4.634230498983486, -5.799100973351585, -19.33244095627987],
    [6.228269936347081, 14.17993336680509, 56.69055260068105],
    [4.776384997670288, -13.74514537774601, -65.35303263337234],
    [-5.435455855934631, 4.645852612178535, 26.3124352495832],
  ];
  // [r, g, b] in 0..255 (a canvas writes these); the named maps return CSS strings
  const bytes = (r, g, b) => [Math.round(255 * clamp(r)), Math.round(255 * clamp(g)), Math.round(255 * clamp(b))];
  const css = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;
  function viridisRGB(t) {
    t = clamp(t);
    const out = [0, 1, 2].map((k) => {
      let v = C[6][k];
      for (let i = 5; i >= 0; i--) v = C[i][k] + t * v;
      return v;
    });
    return bytes(out[0], out[1], out[2]);
  }
  const viridis = (t) => css(viridisRGB(t));
  const NEG = [0.129, 0.4, 0.675]; // #2166ac
  const MID = [0.969, 0.969, 0.969];
  const POS = [0.902, 0.38, 0.004]; // #e66101
  function divergingRGB(v, max) {
    const t = Math.max(-1, Math.min(1, v / (max || 1)));
    const end = t < 0 ? NEG : POS;
    const a = Math.abs(t);
    return bytes(...MID.map((m, i) => m + (end[i] - m) * a));
  }
  const diverging = (v, max) => css(divergingRGB(v, max));
  // readable text colour on a given background value
  function inkOnDiverging(v, max) { return Math.abs(v / (max || 1)) > 0.6 ? "#fff" : "#111"; }
  window.Colormaps = { viridis, diverging, viridisRGB, divergingRGB, inkOnDiverging };
})();
