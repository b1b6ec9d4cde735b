/*
 * Fused CPU kernels of the reference transformer layer (sip_theory.models._native).
 *
 * Why: the reference encoders are tiny (hidden 10, heads of 5, sequences of 18 to ~350
 * tokens). At these sizes torch spends its time in per-operator passes over the
 * (batch, heads, length, length) attention tensor and in bookkeeping, not in arithmetic.
 * These kernels do the attention core and residual + LayerNorm in one pass per row, in
 * the layouts the layer's linear maps produce and consume, so no permute/copy is needed.
 * The linear maps and GELU stay in torch (BLAS and its vectorized erf: plain C loops were
 * slower at these widths, measured with experiments/benchmarks/bench_encoder.py).
 *
 * Conventions (float32, row-major, contiguous):
 *   qkv   (B, T, 3, NH, D)   the qkv projection's output, q | k | v
 *   pad   (B, T)  uint8      1 where a key is padding (never attended to)
 *   drop  (B, NH, T, T) uint8 or NULL: 1 where an attention probability is dropped
 *   probs (B, NH, T, T)      softmax probabilities before dropout (saved for backward)
 *   ctx   (B, T, NH, D)      attention output, the out projection's input
 * A query row whose keys are all padding gets zero probabilities (torch gives NaN; the
 * encoders never produce such rows because [CLS] is never padding).
 *
 * Every loop runs in a fixed order, so results are deterministic on one machine.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

/* exp(x) for x <= 0 in float32, eight at a time (GCC/Clang vector extensions, which
 * compile to AVX where the machine has it and to pairs of SSE operations otherwise):
 * x = n ln2 + r with |r| <= ln2/2, a degree-6 Taylor polynomial of exp(r) (relative error
 * about 1e-7), and the factor 2^n built in the exponent bits. Below -87 it returns 0 (the
 * softmax weight of a key that far below the row's maximum is 0 in float32 anyway). */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) v8f exp8_nonpositive(v8f x)
{
    const v8f lo = {-87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f, -87.0f};
    const v8i keep = x > lo; /* all bits set where x > -87 */
    x = (v8f)(((v8i)x & keep) | ((v8i)lo & ~keep));
    /* round to nearest by the 1.5 * 2^23 trick */
    const v8f n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    const v8f r = (x - n * 0.693145751953125f) - n * 1.428606765330187e-06f;
    v8f p = r * (1.0f / 720.0f) + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const v8i bits = (__builtin_convertvector(n, v8i) + 127) << 23;
    return (v8f)((v8i)(p * (v8f)bits) & keep);
}

/* Horizontal sum of the eight lanes, in a fixed order. */
static inline __attribute__((always_inline)) float hsum8(v8f v)
{
    return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
}

/* The attention kernels work on (b, head) blocks: the keys and values of one head of one
 * sequence are copied into (D, TP) panels, TP = T rounded up to a multiple of 8 with
 * zero-weight padding, so every loop over keys is a whole number of 8-lane vectors. */
#define LANES 8
static inline int64_t padded(int64_t T) { return (T + LANES - 1) / LANES * LANES; }

static void gather_panel(const float *base, int64_t T, int64_t TP, int64_t NH, int64_t D,
                         int64_t part, int64_t h, float *panel)
{
    const int64_t row = 3 * NH * D, off = part * NH * D + h * D;
    memset(panel, 0, sizeof(float) * (size_t)(D * TP));
    for (int64_t j = 0; j < T; ++j)
        for (int64_t c = 0; c < D; ++c) panel[c * TP + j] = base[j * row + off + c];
}

/* Multiplier of each key after dropout: 0 where dropped, drop_scale elsewhere, 0 past T. */
static void keep_row(const uint8_t *dm, int64_t T, int64_t TP, float drop_scale, float *keep)
{
    for (int64_t j = 0; j < T; ++j) keep[j] = dm ? (dm[j] ? 0.0f : drop_scale) : 1.0f;
    for (int64_t j = T; j < TP; ++j) keep[j] = 0.0f;
}

static inline __attribute__((always_inline)) void
attention_forward_body(const float *qkv, const uint8_t *pad, const uint8_t *drop, int64_t B,
                       int64_t T, int64_t NH, const int64_t D, float q_scale, float drop_scale,
                       float *probs, float *ctx, float *scratch)
{
    const int64_t H = NH * D, row = 3 * H, TP = padded(T), NV = TP / LANES;
    float *kt = scratch, *vt = kt + D * TP, *valid = vt + D * TP, *keep = valid + TP;
    float *prow = keep + TP;
    const v8f ninf = {-INFINITY, -INFINITY, -INFINITY, -INFINITY,
                      -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    for (int64_t b = 0; b < B; ++b) {
        const float *base = qkv + b * T * row;
        const uint8_t *padb = pad + b * T;
        int any_valid = 0;
        for (int64_t j = 0; j < TP; ++j) {
            valid[j] = (j < T && !padb[j]) ? 1.0f : 0.0f;
            any_valid |= valid[j] != 0.0f;
        }
        for (int64_t h = 0; h < NH; ++h) {
            gather_panel(base, T, TP, NH, D, 1, h, kt);
            gather_panel(base, T, TP, NH, D, 2, h, vt);
            for (int64_t i = 0; i < T; ++i) {
                const float *q = base + i * row + h * D;
                float *p = probs + ((b * NH + h) * T + i) * T;
                float *out = ctx + (b * T + i) * H + h * D;
                if (!any_valid) {
                    memset(p, 0, sizeof(float) * (size_t)T);
                    memset(out, 0, sizeof(float) * (size_t)D);
                    continue;
                }
                for (int64_t jv = 0; jv < NV; ++jv) {
                    v8f s = {0};
                    for (int64_t c = 0; c < D; ++c) {
                        v8f k;
                        memcpy(&k, kt + c * TP + jv * LANES, sizeof k);
                        s += (q[c] * q_scale) * k;
                    }
                    v8f ok;
                    memcpy(&ok, valid + jv * LANES, sizeof ok);
                    const v8i is_valid = ok > 0.0f;
                    s = (v8f)(((v8i)s & is_valid) | ((v8i)ninf & ~is_valid));
                    memcpy(prow + jv * LANES, &s, sizeof s);
                }
                float m = -INFINITY;
                for (int64_t j = 0; j < T; ++j) m = prow[j] > m ? prow[j] : m;
                v8f tot = {0};
                for (int64_t jv = 0; jv < NV; ++jv) {
                    v8f s, ok;
                    memcpy(&s, prow + jv * LANES, sizeof s);
                    memcpy(&ok, valid + jv * LANES, sizeof ok);
                    s = exp8_nonpositive((v8f)(((v8i)(s - m)) & (v8i)(ok > 0.0f))) * ok;
                    memcpy(prow + jv * LANES, &s, sizeof s);
                    tot += s;
                }
                const float inv = 1.0f / hsum8(tot);
                keep_row(drop ? drop + ((b * NH + h) * T + i) * T : NULL, T, TP, drop_scale,
                         keep);
                v8f acc[64]; /* D <= 64 accumulators */
                for (int64_t c = 0; c < D; ++c) acc[c] = (v8f){0};
                for (int64_t jv = 0; jv < NV; ++jv) {
                    v8f e, kp;
                    memcpy(&e, prow + jv * LANES, sizeof e);
                    memcpy(&kp, keep + jv * LANES, sizeof kp);
                    e *= inv;
                    memcpy(prow + jv * LANES, &e, sizeof e);
                    const v8f w = e * kp;
                    for (int64_t c = 0; c < D; ++c) {
                        v8f v;
                        memcpy(&v, vt + c * TP + jv * LANES, sizeof v);
                        acc[c] += w * v;
                    }
                }
                memcpy(p, prow, sizeof(float) * (size_t)T);
                for (int64_t c = 0; c < D; ++c) out[c] = hsum8(acc[c]);
            }
        }
    }
}

static inline __attribute__((always_inline)) void
attention_backward_body(const float *qkv, const uint8_t *drop, const float *probs,
                        const float *dctx, int64_t B, int64_t T, int64_t NH, const int64_t D,
                        float q_scale, float drop_scale, float *dqkv, float *scratch)
{
    const int64_t H = NH * D, row = 3 * H, TP = padded(T), NV = TP / LANES;
    float *kt = scratch, *vt = kt + D * TP, *dkt = vt + D * TP, *dvt = dkt + D * TP;
    float *keep = dvt + D * TP, *prow = keep + TP, *dsrow = prow + TP;
    memset(dqkv, 0, sizeof(float) * (size_t)(B * T * row));
    for (int64_t b = 0; b < B; ++b) {
        const float *base = qkv + b * T * row;
        float *dbase = dqkv + b * T * row;
        for (int64_t h = 0; h < NH; ++h) {
            gather_panel(base, T, TP, NH, D, 1, h, kt);
            gather_panel(base, T, TP, NH, D, 2, h, vt);
            memset(dkt, 0, sizeof(float) * (size_t)(2 * D * TP));
            for (int64_t i = 0; i < T; ++i) {
                const float *g = dctx + (b * T + i) * H + h * D;
                const float *q = base + i * row + h * D;
                float *dq = dbase + i * row + h * D;
                memcpy(prow, probs + ((b * NH + h) * T + i) * T, sizeof(float) * (size_t)T);
                for (int64_t j = T; j < TP; ++j) prow[j] = 0.0f;
                keep_row(drop ? drop + ((b * NH + h) * T + i) * T : NULL, T, TP, drop_scale,
                         keep);
                /* dp = d loss / d probs (through the dropout); dot = sum_j p_j dp_j */
                v8f dotv = {0};
                for (int64_t jv = 0; jv < NV; ++jv) {
                    v8f p, kp, dp = {0};
                    memcpy(&p, prow + jv * LANES, sizeof p);
                    memcpy(&kp, keep + jv * LANES, sizeof kp);
                    const v8f w = p * kp;
                    for (int64_t c = 0; c < D; ++c) {
                        v8f v, dv;
                        memcpy(&v, vt + c * TP + jv * LANES, sizeof v);
                        memcpy(&dv, dvt + c * TP + jv * LANES, sizeof dv);
                        dp += g[c] * v;
                        dv += w * g[c];
                        memcpy(dvt + c * TP + jv * LANES, &dv, sizeof dv);
                    }
                    dp *= kp;
                    dotv += p * dp;
                    memcpy(dsrow + jv * LANES, &dp, sizeof dp);
                }
                const float dot = hsum8(dotv);
                v8f acc[64];
                for (int64_t c = 0; c < D; ++c) acc[c] = (v8f){0};
                for (int64_t jv = 0; jv < NV; ++jv) {
                    v8f p, dp;
                    memcpy(&p, prow + jv * LANES, sizeof p);
                    memcpy(&dp, dsrow + jv * LANES, sizeof dp);
                    const v8f ds = p * (dp - dot) * q_scale;
                    for (int64_t c = 0; c < D; ++c) {
                        v8f k, dk;
                        memcpy(&k, kt + c * TP + jv * LANES, sizeof k);
                        memcpy(&dk, dkt + c * TP + jv * LANES, sizeof dk);
                        acc[c] += ds * k;
                        dk += ds * q[c];
                        memcpy(dkt + c * TP + jv * LANES, &dk, sizeof dk);
                    }
                }
                for (int64_t c = 0; c < D; ++c) dq[c] = hsum8(acc[c]);
            }
            for (int64_t j = 0; j < T; ++j)
                for (int64_t c = 0; c < D; ++c) {
                    dbase[j * row + H + h * D + c] = dkt[c * TP + j];
                    dbase[j * row + 2 * H + h * D + c] = dvt[c * TP + j];
                }
        }
    }
}

/* The head widths of the reference presets (5: "tiny"; 16: the quick manifold encoder;
 * 64: the manifold preset) get code compiled for their width, which keeps the per-width
 * accumulators in registers; other widths run the same code with a run-time width. */
#define DISPATCH_D(call, D)                                                                  \
    switch (D) {                                                                             \
    case 5: call(5); break;                                                                  \
    case 16: call(16); break;                                                                \
    case 64: call(64); break;                                                                \
    default: call(D);                                                                        \
    }

/* Softmax attention of every head of every sequence; scratch: (2 * D + 4) * TP floats. */
void attention_forward(const float *qkv, const uint8_t *pad, const uint8_t *drop, int64_t B,
                       int64_t T, int64_t NH, int64_t D, float q_scale, float drop_scale,
                       float *probs, float *ctx, float *scratch)
{
#define FWD(d) attention_forward_body(qkv, pad, drop, B, T, NH, d, q_scale, drop_scale, \
                                      probs, ctx, scratch)
    DISPATCH_D(FWD, D)
#undef FWD
}

/* Gradient of attention_forward with respect to qkv, written into dqkv (B, T, 3, NH, D);
 * scratch: (4 * D + 3) * TP floats. */
void attention_backward(const float *qkv, const uint8_t *drop, const float *probs,
                        const float *dctx, int64_t B, int64_t T, int64_t NH, int64_t D,
                        float q_scale, float drop_scale, float *dqkv, float *scratch)
{
#define BWD(d) attention_backward_body(qkv, drop, probs, dctx, B, T, NH, d, q_scale, \
                                       drop_scale, dqkv, scratch)
    DISPATCH_D(BWD, D)
#undef BWD
}

/* y = LayerNorm(x + r) over rows of length H; saves xhat (N, H) and rstd (N). */
void add_layernorm_forward(const float *x, const float *r, const float *gamma,
                           const float *beta, int64_t N, int64_t H, float eps, float *y,
                           float *xhat, float *rstd)
{
    for (int64_t n = 0; n < N; ++n) {
        const float *xn = x + n * H, *rn = r + n * H;
        float *xh = xhat + n * H, *yn = y + n * H;
        float mean = 0.0f;
        for (int64_t c = 0; c < H; ++c) {
            const float u = xn[c] + rn[c];
            xh[c] = u;
            mean += u;
        }
        mean /= (float)H;
        float var = 0.0f;
        for (int64_t c = 0; c < H; ++c) {
            const float d = xh[c] - mean;
            var += d * d;
        }
        var /= (float)H;
        const float rs = 1.0f / sqrtf(var + eps);
        rstd[n] = rs;
        for (int64_t c = 0; c < H; ++c) {
            const float xc = (xh[c] - mean) * rs;
            xh[c] = xc;
            yn[c] = xc * gamma[c] + beta[c];
        }
    }
}

/* Gradient of add_layernorm_forward: dx (the gradient of both x and r), and
 * dgamma, dbeta (overwritten, summed over rows in order). */
void layernorm_backward(const float *dy, const float *xhat, const float *rstd,
                        const float *gamma, int64_t N, int64_t H, float *dx, float *dgamma,
                        float *dbeta)
{
    for (int64_t c = 0; c < H; ++c) { dgamma[c] = 0.0f; dbeta[c] = 0.0f; }
    for (int64_t n = 0; n < N; ++n) {
        const float *dyn = dy + n * H, *xh = xhat + n * H;
        float *dxn = dx + n * H;
        float mg = 0.0f, mgx = 0.0f;
        for (int64_t c = 0; c < H; ++c) {
            const float g = dyn[c] * gamma[c];
            mg += g;
            mgx += g * xh[c];
            dgamma[c] += dyn[c] * xh[c];
            dbeta[c] += dyn[c];
        }
        mg /= (float)H;
        mgx /= (float)H;
        const float rs = rstd[n];
        for (int64_t c = 0; c < H; ++c)
            dxn[c] = rs * (dyn[c] * gamma[c] - mg - xh[c] * mgx);
    }
}
