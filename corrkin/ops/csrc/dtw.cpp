// DTW and soft-DTW on the CPU: one pair per task (at::parallel_for over pairs), row by row
// inside the pair's own Sakoe-Chiba band, squared Euclidean step costs computed on the fly.
//
// The Python side (corrkin/ops/dtw.py) checks shapes and builds the band; this file trusts them:
//   x (B, N, D), y (B, M, D) contiguous, same dtype; n, m, lo, hi (B,) int64 with
//   1 <= n <= N, 1 <= m <= M and cell (i, j) allowed when lo <= j - i <= hi.
// Cells are stored in a (B, N, W) layout, column c = j - shear * i - offset (shear 1: the
// batch's band; shear 0, offset 0: the whole row).
//
// A pair is computed by the same arithmetic whatever else is in the batch, so a pair alone
// and in a padded batch give the same bits.
//
// Built with -ffast-math (compile flags only: no crtfastmath, the process's float mode is left
// alone) so that GCC turns the soft-DTW diagonal loop into SIMD calls of glibc's vector exp/log
// (libmvec); that loop therefore never relies on infinities or NaNs: an unreachable cell holds
// the finite sentinel FAR, and every exponent is clamped before exp. The loops that do keep
// inf (hard DTW) only take min and + of it, which -ffinite-math-only cannot rewrite.

#include <torch/extension.h>

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <cmath>
#include <limits>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <xmmintrin.h>
#endif

namespace {

// Subnormal numbers (a path's weight below 1e-38 in float32) cost a hundred times a normal
// multiply on x86; inside a kernel's thread they are flushed to zero, and the thread's mode
// is restored on the way out.
struct FlushDenormals {
#if defined(__x86_64__) || defined(_M_X64)
  unsigned int saved = _mm_getcsr();
  FlushDenormals() { _mm_setcsr(saved | 0x8040); }  // flush-to-zero | denormals-are-zero
  ~FlushDenormals() { _mm_setcsr(saved); }
#endif
};

// The logarithm of the smallest normal number: exp of anything below is flushed to 0.
template <typename T>
struct LogMin;
template <>
struct LogMin<float> {
  static constexpr float value = -87.33654f;
};
template <>
struct LogMin<double> {
  static constexpr double value = -708.3964185322641;
};

// An unreachable cell's accumulated cost inside the soft-DTW forward loop (finite, see above).
template <typename T>
constexpr T FAR = std::numeric_limits<T>::max() / 4;

// Scratch of n elements starting on a 64-byte boundary, the same in every thread, so the
// vectorised loop splits a diagonal into vector and scalar iterations the same way for a pair
// wherever it sits in the batch.
template <typename T>
struct Scratch {
  std::vector<T> store;
  T* data;
  explicit Scratch(int64_t n) : store(n + 64 / sizeof(T)) {
    auto p = reinterpret_cast<std::uintptr_t>(store.data());
    data = reinterpret_cast<T*>((p + 63) & ~std::uintptr_t(63));
  }
};

struct Layout {
  int64_t N, M, D, W, shear, offset;
  int64_t col(int64_t i, int64_t j) const { return j - shear * i - offset; }
};

template <typename T>
inline T step_cost(const T* xi, const T* yj, int64_t D) {
  T s = 0;
  for (int64_t k = 0; k < D; ++k) {
    const T v = xi[k] - yj[k];
    s += v * v;
  }
  return s;
}

// Row i's allowed columns [jlo, jhi] (empty when jlo > jhi).
inline void row_span(int64_t i, int64_t m, int64_t lo, int64_t hi, int64_t* jlo, int64_t* jhi) {
  *jlo = std::max<int64_t>(0, i + lo);
  *jhi = std::min<int64_t>(m - 1, i + hi);
}

// Hard DTW: accumulated cost of every band cell into acc (B, N, W) (inf elsewhere is not
// written: the caller fills acc with inf), the end cell's value into out (B,).
template <typename T>
void dtw_forward(const T* x, const T* y, const int64_t* n, const int64_t* m, const int64_t* lo, const int64_t* hi,
                 Layout L, int64_t B, T* acc, T* out) {
  const T inf = std::numeric_limits<T>::infinity();
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    std::vector<T> prev(L.M + 2), cur(L.M + 2);  // index j + 1 holds column j; index 0 is j = -1
    for (int64_t b = b0; b < b1; ++b) {
      const T* xb = x + b * L.N * L.D;
      const T* yb = y + b * L.M * L.D;
      T* ab = acc + b * L.N * L.W;
      std::fill(prev.begin(), prev.end(), inf);
      prev[0] = 0;  // the virtual cell (-1, -1): the only way into (0, 0)
      for (int64_t i = 0; i < n[b]; ++i) {
        int64_t jlo, jhi;
        row_span(i, m[b], lo[b], hi[b], &jlo, &jhi);
        cur[jlo] = inf;  // column jlo - 1
        for (int64_t j = jlo; j <= jhi; ++j) {
          const T best = std::min(prev[j], std::min(prev[j + 1], cur[j]));
          const T r = best + step_cost(xb + i * L.D, yb + j * L.D, L.D);
          cur[j + 1] = r;
          ab[i * L.W + L.col(i, j)] = r;
        }
        cur[jhi + 2] = inf;  // column jhi + 1: the next row's "up" past this row's band
        std::swap(prev, cur);
      }
      out[b] = prev[m[b]];
    }
  });
}

inline int64_t floor_half(int64_t v) { return v >= 0 ? v / 2 : -((1 - v) / 2); }

// Diagonal d's (d = i + j) allowed rows [i0, i1] of one pair.
inline void diag_span(int64_t d, int64_t n, int64_t m, int64_t lo, int64_t hi, int64_t* i0, int64_t* i1) {
  *i0 = std::max(std::max<int64_t>(0, d - (m - 1)), -floor_half(hi - d));
  *i1 = std::min(std::min(n - 1, d), floor_half(d - lo));
}

// Cells in one pair's band.
inline int64_t band_cells(int64_t n, int64_t m, int64_t lo, int64_t hi) {
  int64_t cells = 0;
  for (int64_t d = 0; d < n + m - 1; ++d) {
    int64_t i0, i1;
    diag_span(d, n, m, lo, hi, &i0, &i1);
    cells += i1 - i0 + 1;
  }
  return cells;
}

// Soft-DTW forward, one pair at a time, anti-diagonal by anti-diagonal inside the pair's band:
// a diagonal's cells do not depend on each other, so the loop over them is vectorised (row by
// row, each cell would wait for its left neighbour's logarithm). weight (B, 3, cells) gets the
// logarithm of each cell's softmin weights of its diagonal, up and left neighbours (-FAR for a
// weight of 0), the pair's cells in diagonal order; out (B,) the end cell's value.
template <typename T>
void soft_forward(const T* x, const T* y, const int64_t* n, const int64_t* m, const int64_t* lo, const int64_t* hi,
                  Layout L, int64_t B, int64_t cells, T gamma, T* weight, T* out) {
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    FlushDenormals flush;
    const T g = gamma, inv = T(1) / gamma;  // locals, not captured references: the loop vectorises
    const T floor = LogMin<T>::value * gamma;  // (low - v) below this: weight exactly 0
    // accumulated cost of diagonals d - 2, d - 1, d (index i + 1 holds row i, index 0 row -1),
    // then the diagonal's step costs and its three weights
    Scratch<T> s2(L.N + 3), s1(L.N + 3), s0(L.N + 3), sc(L.N), sa(L.N), su(L.N), sl(L.N);
    T *r2 = s2.data, *r1 = s1.data, *r0 = s0.data;
    T *cost = sc.data, *wa = sa.data, *wu = su.data, *wl = sl.data;
    for (int64_t b = b0; b < b1; ++b) {
      const T* xb = x + b * L.N * L.D;
      const T* yb = y + b * L.M * L.D;
      T* wb = weight + b * 3 * cells;
      std::fill(r2, r2 + L.N + 3, FAR<T>);
      std::fill(r1, r1 + L.N + 3, FAR<T>);
      r2[0] = 0;  // the virtual cell (-1, -1): the only way into (0, 0)
      int64_t off = 0;
      for (int64_t d = 0; d < n[b] + m[b] - 1; ++d) {
        int64_t i0, i1;
        diag_span(d, n[b], m[b], lo[b], hi[b], &i0, &i1);
        const int64_t k = i1 - i0 + 1;
        r0[i0] = FAR<T>;      // row i0 - 1
        r0[i1 + 2] = FAR<T>;  // row i1 + 1
        for (int64_t c = 0; c < k; ++c) cost[c] = step_cost(xb + (i0 + c) * L.D, yb + (d - i0 - c) * L.D, L.D);
        const T* a = r2 + i0;     // (i - 1, j - 1)
        const T* u = r1 + i0;     // (i - 1, j)
        const T* l = r1 + i0 + 1; // (i, j - 1)
        T* r = r0 + i0 + 1;
#pragma omp simd
        for (int64_t c = 0; c < k; ++c) {
          // exp(-(v - low) / gamma): 1 for the smallest, in [0, 1) for the others, exactly 0 for
          // an unreachable neighbour; an unreachable cell (all three far) stays far, weights 0
          const T low = std::min(a[c], std::min(u[c], l[c]));
          const bool dead = low >= FAR<T> / 2;
          const T base = dead ? T(0) : low;
          const T za = std::max(base - a[c], floor);
          const T zu = std::max(base - u[c], floor);
          const T zl = std::max(base - l[c], floor);
          const T ea = std::exp(za * inv) * T(za > floor);  // no exp under a branch: SIMD calls
          const T eu = std::exp(zu * inv) * T(zu > floor);
          const T el = std::exp(zl * inv) * T(zl > floor);
          const T total = std::max(ea + eu + el, T(1));  // >= 1 already unless dead
          const T lt = std::log(total);
          r[c] = dead ? FAR<T> : base - g * lt + cost[c];
          // log weights: log(e / total), -FAR (log 0) where the weight is 0; a dead cell's three
          // z are all at the floor, so its weights are all -FAR
          wa[c] = za > floor ? za * inv - lt : -FAR<T>;
          wu[c] = zu > floor ? zu * inv - lt : -FAR<T>;
          wl[c] = zl > floor ? zl * inv - lt : -FAR<T>;
        }
        std::memcpy(wb + off, wa, k * sizeof(T));
        std::memcpy(wb + cells + off, wu, k * sizeof(T));
        std::memcpy(wb + 2 * cells + off, wl, k * sizeof(T));
        off += k;
        std::swap(r2, r1);
        std::swap(r1, r0);  // (r2, r1, r0) <- (r1, r0, old r2)
      }
      const T end = r1[n[b]];
      out[b] = end >= FAR<T> / 2 ? std::numeric_limits<T>::infinity() : end;
    }
  });
}

// Soft-DTW backward in log space: log e[i, j] = logsumexp over the cells stepping from (i, j)
// of their log e plus the log weight of (i, j) in their softmin, from the end cell (log e = 0)
// back, diagonal by diagonal (vectorised like the forward pass); then grad_x[i] += g e 2 (x_i -
// y_j), grad_y[j] -= the same. -FAR stands for log 0: sums of two stay finite, and a cell whose
// three terms are all below -FAR / 2 has e = 0.
template <typename T>
void soft_backward(const T* x, const T* y, const int64_t* n, const int64_t* m, const int64_t* lo, const int64_t* hi,
                   Layout L, int64_t B, int64_t cells, const T* lweight, const T* grad, T* gx, T* gy) {
  at::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
    FlushDenormals flush;
    const T none = -FAR<T>, floor = LogMin<T>::value;
    // row-indexed (index i + 1 holds row i): log e of diagonals d + 2, d + 1, d; the up and left
    // log weights of diagonal d + 1 and the diagonal log weights of d + 1 and d + 2
    Scratch<T> s2(L.N + 3), s1(L.N + 3), s0(L.N + 3), su(L.N + 3), sl(L.N + 3), sd1(L.N + 3), sd2(L.N + 3);
    Scratch<T> se(L.N);  // e of diagonal d's cells
    T *le2 = s2.data, *le1 = s1.data, *le0 = s0.data, *ev = se.data;
    T *wu = su.data, *wl = sl.data, *wd1 = sd1.data, *wd2 = sd2.data;
    std::vector<int64_t> first(L.N + L.M), last(L.N + L.M), start(L.N + L.M);
    for (int64_t b = b0; b < b1; ++b) {
      const T* xb = x + b * L.N * L.D;
      const T* yb = y + b * L.M * L.D;
      const T* wb = lweight + b * 3 * cells;
      T* gxb = gx + b * L.N * L.D;
      T* gyb = gy + b * L.M * L.D;
      const T g = grad[b];
      const int64_t dend = n[b] + m[b] - 2;
      for (int64_t d = 0, off = 0; d <= dend; ++d) {
        diag_span(d, n[b], m[b], lo[b], hi[b], &first[d], &last[d]);
        start[d] = off;
        off += last[d] - first[d] + 1;
      }
      for (T* buf : {le2, le1, wu, wl, wd1, wd2}) std::fill(buf, buf + L.N + 3, none);
      for (int64_t d = dend; d >= 0; --d) {
        const int64_t i0 = first[d], i1 = last[d], k = i1 - i0 + 1;
        if (d == dend) {
          le0[n[b]] = 0;  // the end cell (n - 1, m - 1), alone on the last diagonal
          ev[0] = 1;
        } else {
          const T* e1 = le1 + i0;  // e1[c + 1]: row i on d + 1; e1[c + 2]: row i + 1
          const T* e2 = le2 + i0;
          const T* u = wu + i0;
          const T* l = wl + i0;
          const T* dg = wd2 + i0;
          T* out = le0 + i0 + 1;
#pragma omp simd
          for (int64_t c = 0; c < k; ++c) {
            const T a1 = e1[c + 2] + u[c + 2];   // (i + 1, j) came from (i, j) going down
            const T a2 = e1[c + 1] + l[c + 1];   // (i, j + 1) came from it going right
            const T a3 = e2[c + 2] + dg[c + 2];  // (i + 1, j + 1) came from it diagonally
            const T top = std::max(a1, std::max(a2, a3));
            const bool dead = top < none / 2;
            const T base = dead ? T(0) : top;
            const T z1 = std::max(a1 - base, floor), z2 = std::max(a2 - base, floor), z3 = std::max(a3 - base, floor);
            const T sum = std::exp(z1) * T(z1 > floor) + std::exp(z2) * T(z2 > floor) + std::exp(z3) * T(z3 > floor);
            const T le = dead ? none : base + std::log(std::max(sum, T(1)));
            out[c] = le;
            ev[c] = std::exp(std::max(le, floor)) * T(le > floor);  // 0 below the smallest normal number
          }
        }
        le0[i0] = none;      // row i0 - 1
        le0[i1 + 2] = none;  // row i1 + 1
        for (int64_t i = i0; i <= i1; ++i) {
          if (ev[i - i0] == T(0)) continue;
          const T s = T(2) * g * ev[i - i0];
          const T* xi = xb + i * L.D;
          const T* yj = yb + (d - i) * L.D;
          for (int64_t c = 0; c < L.D; ++c) {
            const T v = s * (xi[c] - yj[c]);
            gxb[i * L.D + c] += v;
            gyb[(d - i) * L.D + c] -= v;
          }
        }
        // the next step (d - 1) reads diagonal d's up and left log weights and d + 1's diagonal ones
        std::swap(wd2, wd1);
        const T* src = wb + start[d];
        wu[i0] = wl[i0] = wd1[i0] = none;
        wu[i1 + 2] = wl[i1 + 2] = wd1[i1 + 2] = none;
        std::memcpy(wd1 + i0 + 1, src, k * sizeof(T));
        std::memcpy(wu + i0 + 1, src + cells, k * sizeof(T));
        std::memcpy(wl + i0 + 1, src + 2 * cells, k * sizeof(T));
        std::swap(le2, le1);
        std::swap(le1, le0);  // (le2, le1, le0) <- (le1, le0, old le2)
      }
    }
  });
}

Layout layout(const torch::Tensor& x, const torch::Tensor& y, int64_t W, int64_t shear, int64_t offset) {
  return Layout{x.size(1), y.size(1), x.size(2), W, shear, offset};
}

std::vector<torch::Tensor> dtw_cpu(torch::Tensor x, torch::Tensor y, torch::Tensor n, torch::Tensor m,
                                   torch::Tensor lo, torch::Tensor hi, int64_t W, int64_t shear, int64_t offset) {
  const int64_t B = x.size(0);
  auto acc = torch::full({B, x.size(1), W}, std::numeric_limits<double>::infinity(), x.options());
  auto out = torch::empty({B}, x.options());
  const Layout L = layout(x, y, W, shear, offset);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "dtw_cpu", [&] {
    dtw_forward<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n.data_ptr<int64_t>(), m.data_ptr<int64_t>(),
                          lo.data_ptr<int64_t>(), hi.data_ptr<int64_t>(), L, B, acc.data_ptr<scalar_t>(),
                          out.data_ptr<scalar_t>());
  });
  return {out, acc};
}

std::vector<torch::Tensor> soft_dtw_forward_cpu(torch::Tensor x, torch::Tensor y, torch::Tensor n, torch::Tensor m,
                                                torch::Tensor lo, torch::Tensor hi, int64_t W, int64_t shear,
                                                int64_t offset, double gamma) {
  const int64_t B = x.size(0);
  int64_t cells = 1;
  for (int64_t b = 0; b < B; ++b) {
    cells = std::max(cells, band_cells(n.data_ptr<int64_t>()[b], m.data_ptr<int64_t>()[b], lo.data_ptr<int64_t>()[b],
                                       hi.data_ptr<int64_t>()[b]));
  }
  auto weight = torch::empty({B, 3, cells}, x.options());
  auto out = torch::empty({B}, x.options());
  const Layout L = layout(x, y, W, shear, offset);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "soft_dtw_forward_cpu", [&] {
    soft_forward<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n.data_ptr<int64_t>(),
                           m.data_ptr<int64_t>(), lo.data_ptr<int64_t>(), hi.data_ptr<int64_t>(), L, B, cells,
                           static_cast<scalar_t>(gamma), weight.data_ptr<scalar_t>(), out.data_ptr<scalar_t>());
  });
  return {out, weight};
}

std::vector<torch::Tensor> soft_dtw_backward_cpu(torch::Tensor x, torch::Tensor y, torch::Tensor n, torch::Tensor m,
                                                 torch::Tensor lo, torch::Tensor hi, int64_t W, int64_t shear,
                                                 int64_t offset, torch::Tensor weight, torch::Tensor grad) {
  const int64_t B = x.size(0);
  auto gx = torch::zeros_like(x);
  auto gy = torch::zeros_like(y);
  const Layout L = layout(x, y, W, shear, offset);
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "soft_dtw_backward_cpu", [&] {
    soft_backward<scalar_t>(x.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), n.data_ptr<int64_t>(),
                            m.data_ptr<int64_t>(), lo.data_ptr<int64_t>(), hi.data_ptr<int64_t>(), L, B,
                            weight.size(2), weight.data_ptr<scalar_t>(), grad.data_ptr<scalar_t>(),
                            gx.data_ptr<scalar_t>(),
                            gy.data_ptr<scalar_t>());
  });
  return {gx, gy};
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, mod) {
  mod.def("dtw", &dtw_cpu, "banded DTW: (cost (B,), accumulated (B, N, W))");
  mod.def("soft_dtw_forward", &soft_dtw_forward_cpu, "soft-DTW: (value (B,), log weights (B, 3, cells))");
  mod.def("soft_dtw_backward", &soft_dtw_backward_cpu, "soft-DTW gradients (grad_x, grad_y)");
}
