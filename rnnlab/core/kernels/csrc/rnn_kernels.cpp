// Fused CPU loops of rnnlab's explicit engine (rnnlab/core/bptt.py): the whole time loop of one
// layer and direction, forward and backward, for rnn_tanh / rnn_relu / gru / lstm.
//
// Per step: one GEMM through ATen (at::mm_out / at::addmm_out into the preallocated time-major
// buffers the Python loop fills), then every elementwise op of the step in one pass over
// batch x hidden (at::parallel_for over batch rows, raw pointers). The buffers and equations
// are those of rnnlab/core/cells.py; the Python loop stays the reference (and the fallback).
// Cell ids: 0 rnn_tanh, 1 rnn_relu, 2 gru, 3 lstm.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <optional>
#include <vector>

namespace {

using at::Tensor;
using OptT = std::optional<Tensor>;

// exp for float in plain arithmetic (Cephes' expf: range reduction + degree-6 polynomial,
// ~1 ulp) so that gcc vectorises the pointwise loops; libm's scalar expf/tanhf made the
// fused loop slower than torch's vectorised ops. double keeps libm (the gradcheck path).
template <typename T>
inline T ex(T x) {
  return std::exp(x);
}
template <>
inline float ex<float>(float x) {
  x = std::min(std::max(x, -87.0f), 88.0f);
  const float n = std::floor(x * 1.44269504088896341f + 0.5f);
  x = x - n * 0.693359375f + n * 2.12194440e-4f;
  float y = 1.9875691500e-4f;
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * x * x + x + 1.0f;
  const int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &e, sizeof s);
  return y * s;
}

template <typename T>
inline T sig(T x) {
  return T(1) / (T(1) + ex(-x));
}

template <typename T>
inline T tnh(T x) {
  return std::tanh(x);
}
template <>
inline float tnh<float>(float x) {  // 1 - 2 / (e^2x + 1): absolute error ~1e-7
  return 1.0f - 2.0f / (ex(2.0f * x) + 1.0f);
}

// Rows per parallel chunk: ~2K elements (a fork costs a few µs, a row of LSTM work ~1 ns/unit).
inline int64_t grain(int64_t H) { return std::max<int64_t>(1, 2048 / std::max<int64_t>(H, 1)); }

template <typename F>
inline void rows(int64_t B, int64_t H, const F& f) {
  at::parallel_for(0, B, grain(H), [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) f(b);
  });
}

inline bool has(const OptT& t) { return t.has_value() && t->defined(); }

// The loops index raw pointers: every buffer must be dense (bptt.py allocates them so).
inline void dense(std::initializer_list<const OptT*> ts) {
  for (const OptT* t : ts)
    TORCH_CHECK(!has(*t) || (*t)->is_contiguous(), "rnnlab kernels: a buffer is not contiguous");
}

template <typename T>
inline T* ptr(const OptT& t) {
  return has(t) ? t->data_ptr<T>() : nullptr;
}

// ---- forward -------------------------------------------------------------------------------
// Row kernels: one batch row of one step, H units. Every pointer is __restrict__ (the buffers
// never overlap) and H is a value, so gcc vectorises each loop without runtime alias checks.
#define R __restrict__

template <typename T>
void rnn_row(bool relu, int64_t H, const T* R g, const T* R p, T* R h) {
  if (relu)
    for (int64_t j = 0; j < H; ++j) h[j] = std::max(g[j] + p[j], T(0));
  else
    for (int64_t j = 0; j < H; ++j) h[j] = tnh(g[j] + p[j]);
}

// p = gh (h W_hh^T + b_hn); rz (2H), n (H) are kept for the backward
template <typename T>
void gru_row(int64_t H, const T* R g, const T* R p, const T* R hp, T* R rz, T* R n, T* R h) {
  for (int64_t j = 0; j < 2 * H; ++j) rz[j] = sig(g[j] + p[j]);
  for (int64_t j = 0; j < H; ++j) {
    const T nn = tnh(g[2 * H + j] + rz[j] * p[2 * H + j]);
    n[j] = nn;
    h[j] = nn + rz[H + j] * (hp[j] - nn);
  }
}

// a = act: h W_hh^T in, activated gates i, f, g, o out
template <typename T>
void lstm_row(int64_t H, const T* R g, T* R a, const T* R cp, T* R c, T* R h) {
  for (int64_t j = 0; j < 2 * H; ++j) a[j] = sig(g[j] + a[j]);
  for (int64_t j = 2 * H; j < 3 * H; ++j) a[j] = tnh(g[j] + a[j]);
  for (int64_t j = 3 * H; j < 4 * H; ++j) a[j] = sig(g[j] + a[j]);
  for (int64_t j = 0; j < H; ++j) {
    const T cc = a[H + j] * cp[j] + a[j] * a[2 * H + j];
    c[j] = cc;
    h[j] = a[3 * H + j] * tnh(cc);
  }
}

template <typename T>
void mul_row(int64_t H, const T* R x, const T* R m, T* R y) {
  for (int64_t j = 0; j < H; ++j) y[j] = x[j] * m[j];
}

// zoneout: out = x_new + z (x_prev - x_new)
template <typename T>
void zone_row(int64_t H, const T* R xn, const T* R xp, const T* R z, T* R out) {
  for (int64_t j = 0; j < H; ++j) out[j] = xn[j] + z[j] * (xp[j] - xn[j]);
}

// Per-step pointers of the zoneout masks and of the cell's own new state h~ (c~) they mix
// with the previous one; all null without zoneout.
template <typename T>
struct Zone {
  const T* zh = nullptr;
  const T* zc = nullptr;
  T* ht = nullptr;
  T* ct = nullptr;
};

// One step's pointwise part over the batch. gi: (B,G) input projection (biases folded as in
// cells.py); pre: (B,G) h W_hh^T (GRU: + b_hn, kept as gh); hp: previous h; writes h (and c,
// rz, n, act); hw (when hmask): next step's W_hh input h * hmask.
template <typename T>
void pointwise_fwd(int cell, int64_t B, int64_t H, const T* gi, T* pre, const T* hp, T* h,
                   T* rz, T* n, const T* cp, T* c, const T* hmask, T* hw, Zone<T> z = {}) {
  const int64_t G = H * (cell == 2 ? 3 : cell == 3 ? 4 : 1);
  rows(B, H, [=](int64_t b) {
    const int64_t o = b * H;
    T* hc = z.zh ? z.ht + o : h + o;  // where the cell writes h~ (c~)
    T* cc = z.zh && cell == 3 ? z.ct + o : (c ? c + o : nullptr);
    if (cell <= 1)
      rnn_row<T>(cell == 1, H, gi + b * G, pre + b * G, hc);
    else if (cell == 2)
      gru_row<T>(H, gi + b * G, pre + b * G, hp + o, rz + 2 * o, n + o, hc);
    else
      lstm_row<T>(H, gi + b * G, pre + b * G, cp + o, cc, hc);
    if (z.zh) {
      zone_row<T>(H, hc, hp + o, z.zh + o, h + o);
      if (cell == 3) zone_row<T>(H, cc, cp + o, z.zc + o, c + o);
    }
    if (hmask != nullptr) mul_row<T>(H, h + o, hmask + o, hw + o);
  });
}

template <typename T>
Zone<T> zone_at(const OptT& zh, const OptT& zc, const OptT& ht, const OptT& ct, int64_t off) {
  Zone<T> z;
  if (!has(zh)) return z;
  z.zh = zh->data_ptr<T>() + off;
  z.ht = ht->data_ptr<T>() + off;
  if (has(zc)) z.zc = zc->data_ptr<T>() + off, z.ct = ct->data_ptr<T>() + off;
  return z;
}

// hs (T+1,B,H) with hs[0] = h0 filled; gi (T,B,G). GRU: gh (T,B,3H), rz (T,B,2H), n (T,B,H),
// step_bias (3H) = [0, 0, b_hn] or none. LSTM: act (T,B,4H), cs (T+1,B,H) with cs[0] = c0.
// Zoneout: masks zh, zc (T,B,H) and the buffers ht (h~: RNN/GRU h_new, LSTM h_raw), ct (c~).
void forward(int64_t cell, const Tensor& gi, const Tensor& hs, const Tensor& w_hh,
             const OptT& step_bias, const OptT& hmask, const OptT& gh, const OptT& rz,
             const OptT& n, const OptT& act, const OptT& cs, const OptT& zh, const OptT& zc,
             const OptT& ht, const OptT& ct) {
  const OptT gi_(gi), hs_(hs);
  dense({&gi_, &hs_, &hmask, &gh, &rz, &n, &act, &cs, &zh, &zc, &ht, &ct});
  const int64_t T = gi.size(0), B = gi.size(1), H = hs.size(2);
  const Tensor wt = w_hh.t();
  Tensor hw = has(hmask) ? at::mul(hs[0], *hmask) : Tensor();
  AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "rnnlab_forward", [&] {
    using T_ = scalar_t;
    const T_* m = ptr<T_>(hmask);
    for (int64_t t = 0; t < T; ++t) {
      const Tensor hin = m ? hw : hs[t];
      Tensor pre;
      if (cell <= 1) {
        // the GEMM writes where the pointwise pass then writes h~ (same element, read first)
        pre = has(zh) ? (*ht)[t] : hs[t + 1];
        at::mm_out(pre, hin, wt);
      } else if (cell == 2) {
        pre = (*gh)[t];
        if (has(step_bias))
          at::addmm_out(pre, *step_bias, hin, wt);
        else
          at::mm_out(pre, hin, wt);
      } else {
        pre = (*act)[t];
        at::mm_out(pre, hin, wt);
      }
      T_* rzp = cell == 2 ? rz->data_ptr<T_>() + t * B * 2 * H : nullptr;
      T_* np = cell == 2 ? n->data_ptr<T_>() + t * B * H : nullptr;
      T_* cp = cell == 3 ? cs->data_ptr<T_>() + t * B * H : nullptr;
      T_* h = hs.data_ptr<T_>() + (t + 1) * B * H;
      pointwise_fwd<T_>(static_cast<int>(cell), B, H, gi.data_ptr<T_>() + t * gi.stride(0),
                        pre.data_ptr<T_>(), hs.data_ptr<T_>() + t * B * H, h, rzp, np, cp,
                        cp ? cp + B * H : nullptr, m, m ? hw.data_ptr<T_>() : nullptr,
                        zone_at<T_>(zh, zc, ht, ct, t * B * H));
    }
  });
}

// ---- backward ------------------------------------------------------------------------------
// Row kernels of one backward step (bptt.py's loop bodies, per cell). dh arrives holding the
// total dL/dh_t; carry (to h_{t-1}, not through W_hh) is GRU's z-path and zoneout's zh-path.

// hc: h~ (the cell's own output); zh: zoneout mask or null
template <typename T>
void rnn_back_row(bool relu, int64_t H, const T* R hc, const T* R dh, const T* R zh, T* R dg,
                  T* R carry) {
  if (relu)
    for (int64_t j = 0; j < H; ++j) dg[j] = hc[j] > 0 ? dh[j] : T(0);
  else
    for (int64_t j = 0; j < H; ++j) dg[j] = dh[j] * (T(1) - hc[j] * hc[j]);
  if (zh != nullptr)
    for (int64_t j = 0; j < H; ++j) {
      dg[j] *= T(1) - zh[j];
      carry[j] = dh[j] * zh[j];
    }
}

template <typename T>
void gru_back_row(int64_t H, const T* R rz, const T* R n, const T* R gh, const T* R hp,
                  const T* R dh, const T* R zh, T* R carry, T* R dg, T* R dgi) {
  for (int64_t j = 0; j < H; ++j) {
    const T zk = zh ? zh[j] : T(0);
    const T d = dh[j] * (T(1) - zk);  // what reaches the cell (all of dh without zoneout)
    const T r = rz[j], z = rz[H + j], nn = n[j];
    const T dA = d * (T(1) - z) * (T(1) - nn * nn);
    const T dr = dA * gh[2 * H + j] * r * (T(1) - r);
    const T dz = d * (hp[j] - nn) * z * (T(1) - z);
    dg[j] = dr;
    dgi[j] = dr;
    dg[H + j] = dz;
    dgi[H + j] = dz;
    dg[2 * H + j] = dA * r;
    dgi[2 * H + j] = dA;
    carry[j] = dh[j] * zk + d * z;
  }
}

// cc carry in: f_{t+1} dc_{t+1}; out: f_t dc_t. dce: dL/dc_t from outside (c_all used), or null
template <typename T>
void lstm_back_row(int64_t H, const T* R a, const T* R c, const T* R cp, const T* R dh,
                   const T* R dce, T* R cc, T* R dg, T* R dC) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
    const T tc = tnh(c[j]);
    T dc = cc[j] + dh[j] * o * (T(1) - tc * tc);
    if (dce != nullptr) dc += dce[j];
    if (dC != nullptr) dC[j] = dc;
    dg[j] = dc * g * i * (T(1) - i);
    dg[H + j] = dc * cp[j] * f * (T(1) - f);
    dg[2 * H + j] = dc * i * (T(1) - g * g);
    dg[3 * H + j] = dh[j] * tc * o * (T(1) - o);
    cc[j] = dc * f;
  }
}

// bptt.py's _lstm_zoneout_step: ct = c~_t; dC records dL/dc_t of the zoned state
template <typename T>
void lstm_zone_back_row(int64_t H, const T* R a, const T* R ct, const T* R cp, const T* R dh,
                        const T* R dce, const T* R zh, const T* R zc, T* R cc, T* R carry,
                        T* R dg, T* R dC) {
  for (int64_t j = 0; j < H; ++j) {
    const T i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j];
    const T tc = tnh(ct[j]);
    T dc = cc[j];
    if (dce != nullptr) dc += dce[j];
    if (dC != nullptr) dC[j] = dc;
    const T dht = dh[j] * (T(1) - zh[j]);
    const T dct = dc * (T(1) - zc[j]) + dht * o * (T(1) - tc * tc);
    dg[j] = dct * g * i * (T(1) - i);
    dg[H + j] = dct * cp[j] * f * (T(1) - f);
    dg[2 * H + j] = dct * i * (T(1) - g * g);
    dg[3 * H + j] = dht * tc * o * (T(1) - o);
    cc[j] = dc * zc[j] + dct * f;
    carry[j] = dh[j] * zh[j];
  }
}

// out = x + y (* m) (+ carry)
template <typename T>
void add_row(int64_t H, const T* R x, const T* R y, const T* R m, const T* R carry, T* R out) {
  if (m != nullptr)
    for (int64_t j = 0; j < H; ++j) out[j] = x[j] + y[j] * m[j];
  else
    for (int64_t j = 0; j < H; ++j) out[j] = x[j] + y[j];
  if (carry != nullptr)
    for (int64_t j = 0; j < H; ++j) out[j] += carry[j];
}

// The backward loop: fills dH (total dL/dh_t), dG (dL/d state pre-activations), GRU's dGI
// (dL/d input pre-activations), LSTM's dC (total dL/dc_t) when given; returns [dh0] or
// [dh0, dc0]. rec: (B,H) = dG_{t+1} W_hh, the gradient that came back through W_hh.
std::vector<Tensor> backward(int64_t cell, const Tensor& w_hh, const Tensor& d_out,
                             const Tensor& hs, const OptT& hmask, const Tensor& dH,
                             const Tensor& dG, const OptT& dGI, const OptT& rz, const OptT& n,
                             const OptT& gh, const OptT& act, const OptT& cs, const OptT& d_c,
                             const OptT& dC, const OptT& zh, const OptT& zc, const OptT& ht,
                             const OptT& ct) {
  const OptT d_(d_out), hs_(hs), dH_(dH), dG_(dG);
  dense({&d_, &hs_, &dH_, &dG_, &hmask, &dGI, &rz, &n, &gh, &act, &cs, &d_c, &dC, &zh, &zc,
         &ht, &ct});
  const int64_t T = d_out.size(0), B = d_out.size(1), H = hs.size(2);
  const int64_t G = dG.size(2);
  const bool zone = has(zh), direct = zone || cell == 2;  // is there a path around W_hh?
  Tensor rec = at::zeros({B, H}, hs.options());
  Tensor carry = at::zeros({B, H}, hs.options());   // to h_{t-1} around W_hh
  Tensor carry_c = at::zeros({B, H}, hs.options());  // LSTM: to c_{t-1}
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "rnnlab_backward", [&] {
    using T_ = scalar_t;
    const T_* m = ptr<T_>(hmask);
    const T_* dce = ptr<T_>(d_c);
    T_* dCp = ptr<T_>(dC);
    T_* rp = rec.data_ptr<T_>();
    T_* cr = carry.data_ptr<T_>();
    T_* crc = carry_c.data_ptr<T_>();
    const T_* dout = d_out.data_ptr<T_>();
    const T_* hsp = hs.data_ptr<T_>();
    T_* dhp = dH.data_ptr<T_>();
    T_* dgp = dG.data_ptr<T_>();
    const T_* rzp = ptr<T_>(rz);
    const T_* np = ptr<T_>(n);
    const T_* ghp = ptr<T_>(gh);
    T_* dgip = ptr<T_>(dGI);
    const T_* ap = ptr<T_>(act);
    const T_* csp = ptr<T_>(cs);
    const T_* zhp = ptr<T_>(zh);
    const T_* zcp = ptr<T_>(zc);
    const T_* htp = ptr<T_>(ht);
    const T_* ctp = ptr<T_>(ct);
    for (int64_t t = T - 1; t >= 0; --t) {
      const int64_t s = t * B * H;  // offset of step t in (T,B,H); hs[t] is h_{t-1}
      rows(B, H, [=](int64_t b) {
        const int64_t o = s + b * H, og = (t * B + b) * G, ob = b * H;
        const T_* z = zone ? zhp + o : nullptr;
        add_row<T_>(H, dout + o, rp + ob, m ? m + ob : nullptr, direct ? cr + ob : nullptr,
                    dhp + o);
        if (cell <= 1)
          rnn_back_row<T_>(cell == 1, H, zone ? htp + o : hsp + o + B * H, dhp + o, z,
                           dgp + og, cr + ob);
        else if (cell == 2)
          gru_back_row<T_>(H, rzp + 2 * o, np + o, ghp + og, hsp + o, dhp + o, z, cr + ob,
                           dgp + og, dgip + og);
        else if (zone)
          lstm_zone_back_row<T_>(H, ap + og, ctp + o, csp + o, dhp + o,
                                 dce ? dce + o : nullptr, z, zcp + o, crc + ob, cr + ob,
                                 dgp + og, dCp ? dCp + o : nullptr);
        else
          lstm_back_row<T_>(H, ap + og, csp + o + B * H, csp + o, dhp + o,
                            dce ? dce + o : nullptr, crc + ob, dgp + og,
                            dCp ? dCp + o : nullptr);
      });
      at::mm_out(rec, dG[t], w_hh);
    }
  });
  Tensor dh0 = has(hmask) ? rec * *hmask : rec;
  if (direct) dh0 = dh0 + carry;
  if (cell == 3) return {dh0, carry_c};
  return {dh0};
}

// ---- one step of a whole layer stack (Stepper) ---------------------------------------------

// x (B,I); h, c (L,B,H) (c: LSTM only); w: per layer w_ih, w_hh, b_ih, b_hh. Returns the new
// states [h', c'] (L,B,H) (no buffers kept: inference). Two GEMMs per layer, one fused pass.
std::vector<Tensor> stack_step(int64_t cell, const Tensor& x, const Tensor& h, const OptT& c,
                               const std::vector<Tensor>& w) {
  const OptT x_(x), h_(h);
  dense({&x_, &h_, &c});
  const int64_t L = h.size(0), B = h.size(1), H = h.size(2);
  const int64_t G = w[1].size(0);
  Tensor gi = at::empty({B, G}, h.options()), pre = at::empty({B, G}, h.options());
  Tensor h2 = at::empty_like(h), c2 = cell == 3 ? at::empty_like(*c) : Tensor();
  Tensor rzb, nb;
  if (cell == 2) rzb = at::empty({B, 2 * H}, h.options()), nb = at::empty({B, H}, h.options());
  Tensor in = x;
  for (int64_t k = 0; k < L; ++k) {
    const Tensor& bih = w[4 * k + 2];
    const Tensor& bhh = w[4 * k + 3];
    const Tensor hk = h[k];
    at::addmm_out(gi, bih, in, w[4 * k].t());  // the pointwise pass adds the two
    at::addmm_out(pre, bhh, hk, w[4 * k + 1].t());
    Tensor hk2 = h2[k];
    AT_DISPATCH_FLOATING_TYPES(h.scalar_type(), "rnnlab_stack_step", [&] {
      using T_ = scalar_t;
      pointwise_fwd<T_>(static_cast<int>(cell), B, H, gi.data_ptr<T_>(), pre.data_ptr<T_>(),
                        hk.data_ptr<T_>(), hk2.data_ptr<T_>(),
                        cell == 2 ? rzb.data_ptr<T_>() : nullptr,
                        cell == 2 ? nb.data_ptr<T_>() : nullptr,
                        cell == 3 ? (*c)[k].data_ptr<T_>() : nullptr,
                        cell == 3 ? c2[k].data_ptr<T_>() : nullptr, nullptr, nullptr);
    });
    in = hk2;
  }
  if (cell == 3) return {h2, c2};
  return {h2};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("forward", &forward, "fused forward loop of one layer and direction");
  m.def("backward", &backward, "fused backward loop of one layer and direction");
  m.def("stack_step", &stack_step, "one inference step of a layer stack, in place");
}
