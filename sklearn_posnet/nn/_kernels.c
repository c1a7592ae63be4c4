/*
 * Fused CPU kernels for one positional or particle layer's effective weight (float32).
 *
 * Eager PyTorch makes a training step's weight work a score of passes over (n_out, n_in)
 * matrices, and at MNIST sizes those matrices no longer fit in a core's cache: each pass costs
 * as much as reading them from the shared cache. These kernels make the same computation in
 * one pass forward and one pass backward, a row of output neurons at a time, with every
 * intermediate (squared distances, falloff, implied weight) in vector registers:
 *
 *   forward:  out_ij = f(c d2_ij) a_ij,  penalty = sum_ij w_ij^2 (l2 + distance d2_ij)
 *   backward: the gradients of <g, out> + gp * penalty with respect to every input,
 *
 * where d2_ij = |p_i - q_j|^2 and a_ij is either a raw weight w_ij (positional layers) or the
 * dipole alignment v_i . u_j (particle layers, which then never read a weight matrix).
 * The bindings at the end check every array they are given (type, contiguity, shape) and
 * raise on a wrong one; coordinates of the input neurons come transposed, (dim, n_in), so that
 * the inner loops over j read contiguous memory.
 *
 * Sums over output neurons (the input neurons' gradients) are accumulated per fixed block of
 * rows and the blocks added in order, so results do not depend on the number of threads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(_MSC_VER)
#define INLINE static __forceinline
#define restrict __restrict
#else
#define INLINE static inline __attribute__((always_inline))
#endif

/* The kernel codes of sklearn_posnet.falloff.FALLOFFS, which holds the formulas' Python side. */
enum { FALLOFF_NONE = 0, INVERSE_SQUARE = 1, GAUSSIAN = 2, EXPONENTIAL = 3 };
#define LOG2E 1.4426950408889634f
#define BLOCKS 8 /* row blocks of the column sums: fixed, whatever the thread count */

/* 2**x for x <= 0, within 2e-7 relative error (a degree-6 fit of 2**f on [-1, 0]). */
INLINE float exp2_nonpositive(float x)
{
    /* max(x, -126) by selecting bits under a mask: exact, also for x = -inf (neurons so far
     * apart that the squared distance overflows float32, where 0/1-mask arithmetic would give
     * 0 * inf = NaN), and without a conditional, which keeps some compilers from vectorizing
     * the loop. */
    union { float f; int32_t i; } value = {x}, floor_ = {-126.0f};
    const int32_t keep = -(int32_t)(x >= -126.0f);
    value.i = (value.i & keep) | (floor_.i & ~keep);
    x = value.f;
    int32_t n = (int32_t)x; /* toward zero: n >= x, f in (-1, 0] */
    float f = x - (float)n;
    float p = 1.0877865e-04f;
    p = p * f + 1.2728728e-03f;
    p = p * f + 9.5768030e-03f;
    p = p * f + 5.5489309e-02f;
    p = p * f + 2.4022394e-01f;
    p = p * f + 6.9314700e-01f;
    p = p * f + 1.0f;
    union { int32_t i; float f; } scale;
    scale.i = (n + 127) << 23;
    return p * scale.f;
}

typedef struct {
    int64_t n_out, n_in, dim;
    int falloff;
    float c, l2, distance;
    const float *p_out;  /* (n_out, dim) */
    const float *qt;     /* (dim, n_in) */
    const float *weight; /* (n_out, n_in), or NULL: particle layer */
    const float *v_out;  /* (n_out, dim), particle layers */
    const float *ut;     /* (dim, n_in), particle layers */
} Layer;

/* The row loops are compiled for AVX-512 and AVX2 as well as the baseline; the loader picks the
 * widest the CPU has (GCC function multiversioning, x86-64 only). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(NO_CLONES)
#define CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define CLONES
#endif

/* f(c d2) and, into *slope, d f(c d2) / d(d2); FALLOFF is a compile-time constant at each use. */
INLINE float falloff_and_slope(int falloff, float c, float d2, float *slope)
{
    switch (falloff) {
    case INVERSE_SQUARE: {
        const float f = 1.0f / (1.0f + c * d2);
        *slope = -c * f * f;
        return f;
    }
    case GAUSSIAN: {
        const float f = exp2_nonpositive(-c * LOG2E * d2);
        *slope = -c * f;
        return f;
    }
    case EXPONENTIAL: {
        const float root = sqrtf(c * d2), f = exp2_nonpositive(-LOG2E * root);
        const float positive = (float)(root > 0.0f); /* the slope is 0 where root is 0 */
        *slope = positive * (-c * f / (2.0f * (root + (1.0f - positive))));
        return f;
    }
    default:
        *slope = 0.0f;
        return 1.0f;
    }
}

/* Row i's view of a layer: its position, dipole and weights, and the input coordinates, as plain
 * restrict pointers (read through the Layer struct, every load would be re-done per element). */
typedef struct {
    float p[3], v[3];
    const float *restrict q[3];
    const float *restrict u[3];
    const float *restrict w;
} Row;

INLINE Row row_view(const Layer *L, int64_t i, int dim, int particle)
{
    const int64_t n = L->n_in;
    Row r;
    for (int k = 0; k < 3; k++) {
        const int kk = k < dim ? k : 0;
        r.p[k] = k < dim ? L->p_out[i * dim + k] : 0.0f;
        r.v[k] = particle && k < dim ? L->v_out[i * dim + k] : 0.0f;
        r.q[k] = L->qt + kk * n;
        r.u[k] = particle ? L->ut + kk * n : NULL;
    }
    r.w = particle ? NULL : L->weight + i * n;
    return r;
}

/* |p_i - q_j|^2, a_ij and p_i - q_j (into diff); DIM and PARTICLE are compile-time constants
 * at each use. */
INLINE float distance_and_strength(const Row *r, int64_t j, int dim, int particle, float *a,
                                   float *diff0, float *diff1, float *diff2)
{
    /* Scalars, not an array: the vectorizer keeps scalars in registers. */
    const float x0 = r->p[0] - r->q[0][j];
    const float x1 = dim > 1 ? r->p[1] - r->q[1][j] : 0.0f;
    const float x2 = dim > 2 ? r->p[2] - r->q[2][j] : 0.0f;
    float d2 = x0 * x0, strength = 0.0f;
    if (dim > 1) d2 += x1 * x1;
    if (dim > 2) d2 += x2 * x2;
    if (particle) {
        strength = r->v[0] * r->u[0][j];
        if (dim > 1) strength += r->v[1] * r->u[1][j];
        if (dim > 2) strength += r->v[2] * r->u[2][j];
    }
    *diff0 = x0;
    *diff1 = x1;
    *diff2 = x2;
    *a = particle ? strength : r->w[j];
    return d2;
}

/* One row of the forward pass, every intermediate in registers; returns the row's penalty. */
INLINE float forward_row_t(const Layer *L, int64_t i, float *restrict out, int dim, int falloff,
                           int particle)
{
    const int64_t n = L->n_in;
    const Row r = row_view(L, i, dim, particle);
    const float c = L->c, l2 = L->l2, distance = L->distance;
    float *restrict o = out + i * n, penalty = 0.0f;
#pragma omp simd reduction(+ : penalty)
    for (int64_t j = 0; j < n; j++) {
        float a, slope, x0, x1, x2;
        const float d2 = distance_and_strength(&r, j, dim, particle, &a, &x0, &x1, &x2);
        o[j] = falloff_and_slope(falloff, c, d2, &slope) * a;
        if (!particle) penalty += a * a * (l2 + distance * d2);
    }
    return penalty;
}

/* Row-side results of the backward pass: sum_j h_ij (p_ik - q_jk) and sum_j ga_ij u_jk. */
typedef struct {
    float hd[3], gu[3];
} RowSums;

/* One row of the backward pass. Gradients nobody asked for go to the caller's scratch rows, so
 * that the loop has no branches: ga = dL/da_ij (into grad_a), h = dL/d(d2_ij); the column sums
 * of h (p_ik - q_jk) and of ga v_k are added to col_hd and col_gv (dim rows each). The position
 * gradients are sums of h times the coordinate differences, not p * sum(h) - sum(h q): that
 * form cancels catastrophically when neurons nearly coincide. */
INLINE RowSums backward_row_t(const Layer *L, const float *restrict grad, float grad_penalty,
                              int64_t i, float *restrict grad_a, float *restrict col_hd,
                              float *restrict col_gv, int dim, int falloff, int particle)
{
    const int64_t n = L->n_in;
    const Row r = row_view(L, i, dim, particle);
    const float *restrict g = grad + i * n;
    const float c = L->c, l2 = 2.0f * grad_penalty * L->l2;
    const float distance = 2.0f * grad_penalty * L->distance;
    float hd0 = 0.0f, hd1 = 0.0f, hd2 = 0.0f, gu0 = 0.0f, gu1 = 0.0f, gu2 = 0.0f;
    float *restrict cd0 = col_hd, *restrict cd1 = col_hd + (dim > 1 ? n : 0);
    float *restrict cd2 = col_hd + (dim > 2 ? 2 * n : 0);
    float *restrict cg0 = col_gv, *restrict cg1 = col_gv + (dim > 1 ? n : 0);
    float *restrict cg2 = col_gv + (dim > 2 ? 2 * n : 0);
#pragma omp simd reduction(+ : hd0, hd1, hd2, gu0, gu1, gu2)
    for (int64_t j = 0; j < n; j++) {
        float a, slope, x0, x1, x2;
        const float d2 = distance_and_strength(&r, j, dim, particle, &a, &x0, &x1, &x2);
        const float f = falloff_and_slope(falloff, c, d2, &slope);
        float ga = g[j] * f, h = g[j] * a * slope;
        if (!particle) {
            ga += a * (l2 + distance * d2);
            h += 0.5f * distance * a * a;
        }
        grad_a[j] = ga;
        hd0 += h * x0;
        cd0[j] += h * x0;
        if (dim > 1) {
            hd1 += h * x1;
            cd1[j] += h * x1;
        }
        if (dim > 2) {
            hd2 += h * x2;
            cd2[j] += h * x2;
        }
        if (particle) {
            gu0 += ga * r.u[0][j];
            cg0[j] += ga * r.v[0];
            if (dim > 1) {
                gu1 += ga * r.u[1][j];
                cg1[j] += ga * r.v[1];
            }
            if (dim > 2) {
                gu2 += ga * r.u[2][j];
                cg2[j] += ga * r.v[2];
            }
        }
    }
    RowSums sums = {{hd0, hd1, hd2}, {gu0, gu1, gu2}};
    return sums;
}

/* The (dim, falloff, particle) instances: dimensions 1 to 3, vectorized with the constants
 * folded in; other dimensions take the generic loops of the slow path below. */
#define DISPATCH(CALL_DIM_FALLOFF_PARTICLE, dim, falloff, particle)                          \
    do {                                                                                    \
        if (particle) {                                                                     \
            DISPATCH_FALLOFF(CALL_DIM_FALLOFF_PARTICLE, dim, falloff, 1);                   \
        } else {                                                                            \
            DISPATCH_FALLOFF(CALL_DIM_FALLOFF_PARTICLE, dim, falloff, 0);                   \
        }                                                                                   \
    } while (0)
#define DISPATCH_FALLOFF(CALL, dim, falloff, PARTICLE)                                      \
    switch (falloff) {                                                                      \
    case INVERSE_SQUARE: DISPATCH_DIM(CALL, dim, INVERSE_SQUARE, PARTICLE); break;         \
    case GAUSSIAN: DISPATCH_DIM(CALL, dim, GAUSSIAN, PARTICLE); break;                     \
    case EXPONENTIAL: DISPATCH_DIM(CALL, dim, EXPONENTIAL, PARTICLE); break;               \
    default: DISPATCH_DIM(CALL, dim, FALLOFF_NONE, PARTICLE);                              \
    }
#define DISPATCH_DIM(CALL, dim, FALLOFF, PARTICLE)                                          \
    switch (dim) {                                                                          \
    case 1: CALL(1, FALLOFF, PARTICLE); break;                                              \
    case 2: CALL(2, FALLOFF, PARTICLE); break;                                              \
    default: CALL(3, FALLOFF, PARTICLE);                                                    \
    }

CLONES static double forward_rows(const Layer *L, int64_t start, int64_t stop, float *out)
{
    double penalty = 0.0;
    const int particle = L->weight == NULL;
#define FORWARD_CALL(DIM, FALLOFF, PARTICLE)                                                  \
    for (int64_t i = start; i < stop; i++) penalty += forward_row_t(L, i, out, DIM, FALLOFF, PARTICLE)
    DISPATCH(FORWARD_CALL, L->dim, L->falloff, particle);
    return penalty;
}

typedef struct {
    const float *grad;  /* (n_out, n_in), gradient of the output (zeros when it had none) */
    float grad_penalty; /* gradient of the penalty */
    float *grad_weight; /* (n_out, n_in) or NULL */
    float *grad_p_out;  /* (n_out, dim) or NULL */
    float *grad_qt;     /* (dim, n_in) or NULL, zeroed by the caller */
    float *grad_v_out;  /* (n_out, dim) or NULL */
    float *grad_ut;     /* (dim, n_in) or NULL, zeroed by the caller */
} Grads;

/* Rows start..stop of the backward pass; scratch holds a grad_a row when grad_weight is NULL.
 * Column sums go to cols: h (p_k - q_k) (dim rows), ga v_k (dim rows). */
CLONES static void backward_rows(const Layer *L, const Grads *G, int64_t start, int64_t stop,
                               float *cols, float *scratch)
{
    const int64_t n = L->n_in, dim = L->dim;
    const int particle = L->weight == NULL;
    float *col_hd = cols, *col_gv = cols + dim * n;
#define BACKWARD_CALL(DIM, FALLOFF, PARTICLE)                                                 \
    for (int64_t i = start; i < stop; i++) {                                                  \
        float *grad_a = G->grad_weight ? G->grad_weight + i * n : scratch;                   \
        RowSums s = backward_row_t(L, G->grad, G->grad_penalty, i, grad_a, col_hd, col_gv,   \
                                   DIM, FALLOFF, PARTICLE);                                   \
        for (int64_t k = 0; k < dim; k++) {                                                   \
            if (G->grad_p_out) G->grad_p_out[i * dim + k] = 2.0f * s.hd[k];                   \
            if (G->grad_v_out) G->grad_v_out[i * dim + k] = s.gu[k];                          \
        }                                                                                     \
    }
    DISPATCH(BACKWARD_CALL, dim, L->falloff, particle);
}

static int threads_for(int64_t work, int requested)
{
    /* Below ~64k connections a second thread costs more than it saves. */
    return work < 65536 || requested < 1 ? 1 : requested;
}

/* out = f(c d2) * a, and the penalty (summed per block of rows in block order). */
static int layer_forward(const Layer *L, float *out, double *penalty_out, int threads)
{
    const int64_t blocks = L->n_out < BLOCKS ? L->n_out : BLOCKS;
    double partial[BLOCKS] = {0.0};
#pragma omp parallel for schedule(static) num_threads(threads_for(L->n_out * L->n_in, threads))
    for (int64_t b = 0; b < blocks; b++)
        partial[b] = forward_rows(L, b * L->n_out / blocks, (b + 1) * L->n_out / blocks, out);
    double penalty = 0.0;
    for (int64_t b = 0; b < blocks; b++) penalty += partial[b];
    *penalty_out = penalty;
    return 0;
}

static int layer_backward(const Layer *L, const Grads *G, int threads)
{
    const int64_t n = L->n_in, dim = L->dim;
    const int64_t blocks = L->n_out < BLOCKS ? L->n_out : BLOCKS;
    const int64_t per_block = 2 * dim * n + n; /* column sums and a scratch row */
    float *columns = calloc((size_t)(blocks * per_block), sizeof(float));
    if (columns == NULL) return -1;
#pragma omp parallel for schedule(static) num_threads(threads_for(L->n_out * n, threads))
    for (int64_t b = 0; b < blocks; b++) {
        float *cols = columns + b * per_block;
        backward_rows(L, G, b * L->n_out / blocks, (b + 1) * L->n_out / blocks, cols,
                      cols + 2 * dim * n);
    }
    for (int64_t b = 0; b < blocks; b++) { /* in block order: thread-count independent */
        const float *col = columns + b * per_block;
        if (G->grad_qt != NULL) /* d(d2)/dq = -2 (p - q) */
            for (int64_t k = 0; k < dim * n; k++) G->grad_qt[k] -= 2.0f * col[k];
        if (G->grad_ut != NULL) {
            const float *gv = col + dim * n;
            for (int64_t k = 0; k < dim * n; k++) G->grad_ut[k] += gv[k];
        }
    }
    free(columns);
    return 0;
}

/* ------------------------------------------------------------------------ Python bindings */
/*
 * The bindings take arrays through the buffer protocol (NumPy views of the tensors, made by
 * _kernel_calls.py), never raw addresses: every array is checked here for its element type
 * (float32), C-contiguity, writability where written, and its shape against the layer's, which
 * the position arrays define. A wrong argument raises TypeError or ValueError.
 */

enum { P_OUT, QT, WEIGHT, V_OUT, UT, OUT, GRAD, GRAD_WEIGHT, GRAD_P_OUT, GRAD_QT, GRAD_V_OUT,
       GRAD_UT, N_ARRAYS };
static const char *const array_names[N_ARRAYS] = {
    "positions_out", "coordinates_in", "weight", "dipoles_out", "dipole_coordinates_in", "out",
    "grad", "grad_weight", "grad_positions_out", "grad_coordinates_in", "grad_dipoles_out",
    "grad_dipole_coordinates_in"};

typedef struct {
    Py_buffer views[N_ARRAYS];
    int held[N_ARRAYS];
} Arrays;

static void release(Arrays *A)
{
    for (int k = 0; k < N_ARRAYS; k++)
        if (A->held[k]) {
            PyBuffer_Release(&A->views[k]);
            A->held[k] = 0;
        }
}

static int is_float32(const char *format)
{
    if (format == NULL) return 0; /* itemsize alone cannot tell float32 from int32 */
    if (format[0] == '@' || format[0] == '=') format++;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    else if (format[0] == '<') format++;
#endif
    return format[0] == 'f' && format[1] == '\0';
}

/* Array `index` from `obj` (None allowed where `optional`), shape (rows, cols); -1 means any.
 * Returns its data, or NULL with *failed set (and an exception) on error, or NULL for None. */
static float *take(Arrays *A, int index, PyObject *obj, int writable, int optional,
                   Py_ssize_t rows, Py_ssize_t cols, int *failed)
{
    const char *name = array_names[index];
    if (obj == Py_None) {
        if (!optional) {
            PyErr_Format(PyExc_TypeError, "%s is required, got None", name);
            *failed = 1;
        }
        return NULL;
    }
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError, "%s must be a float32 array, got %.100s", name,
                     Py_TYPE(obj)->tp_name);
        *failed = 1;
        return NULL;
    }
    Py_buffer *view = &A->views[index];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "%s must be a C-contiguous%s array", name,
                     writable ? ", writable" : "");
        *failed = 1;
        return NULL;
    }
    A->held[index] = 1;
    if (view->itemsize != 4 || !is_float32(view->format)) {
        PyErr_Format(PyExc_TypeError, "%s must hold float32, got format '%s'", name,
                     view->format ? view->format : "B");
        *failed = 1;
        return NULL;
    }
    if (view->ndim != 2 || (rows >= 0 && view->shape[0] != rows) ||
        (cols >= 0 && view->shape[1] != cols)) {
        if (view->ndim != 2)
            PyErr_Format(PyExc_ValueError, "%s must be 2-dimensional, got %d dimensions", name,
                         view->ndim);
        else
            PyErr_Format(PyExc_ValueError, "%s must have shape (%zd, %zd), got (%zd, %zd)", name,
                         rows >= 0 ? rows : view->shape[0], cols >= 0 ? cols : view->shape[1],
                         view->shape[0], view->shape[1]);
        *failed = 1;
        return NULL;
    }
    return (float *)view->buf;
}

/* The layer's arrays: positions_out (n_out, dim) and coordinates_in (dim, n_in) define its
 * sizes; then a weight (n_out, n_in) or both dipole arrays. Returns 0, or -1 with an exception. */
static int take_layer(Arrays *A, Layer *L, PyObject *const objs[5])
{
    int failed = 0;
    L->p_out = take(A, P_OUT, objs[0], 0, 0, -1, -1, &failed);
    if (failed) return -1;
    L->n_out = A->views[P_OUT].shape[0];
    L->dim = A->views[P_OUT].shape[1];
    if (L->dim < 1 || L->dim > 3) {
        PyErr_Format(PyExc_ValueError, "the kernels take positions of dimension 1 to 3, got %zd",
                     (Py_ssize_t)L->dim);
        return -1;
    }
    L->qt = take(A, QT, objs[1], 0, 0, (Py_ssize_t)L->dim, -1, &failed);
    if (failed) return -1;
    L->n_in = A->views[QT].shape[1];
    L->weight = take(A, WEIGHT, objs[2], 0, 1, L->n_out, L->n_in, &failed);
    if (failed) return -1;
    L->v_out = take(A, V_OUT, objs[3], 0, 1, L->n_out, L->dim, &failed);
    if (failed) return -1;
    L->ut = take(A, UT, objs[4], 0, 1, L->dim, L->n_in, &failed);
    if (failed) return -1;
    if (L->weight == NULL && (L->v_out == NULL || L->ut == NULL)) {
        PyErr_SetString(PyExc_ValueError, "a layer needs a weight or both dipole arrays");
        return -1;
    }
    if (L->weight != NULL && (L->v_out != NULL || L->ut != NULL)) {
        PyErr_SetString(PyExc_ValueError, "a layer takes a weight or dipoles, not both");
        return -1;
    }
    if (L->falloff < FALLOFF_NONE || L->falloff > EXPONENTIAL) {
        PyErr_Format(PyExc_ValueError, "unknown falloff code %d", L->falloff);
        return -1;
    }
    return 0;
}

/* The arrays written (from `first_written` on) must share no memory with any other array: the
 * loops read their inputs through restrict pointers. Returns 0, or -1 with an exception. */
static int check_disjoint(const Arrays *A, int first_written)
{
    for (int w = first_written; w < N_ARRAYS; w++) {
        if (!A->held[w]) continue;
        const char *w_start = A->views[w].buf, *w_stop = w_start + A->views[w].len;
        for (int k = 0; k < N_ARRAYS; k++) {
            if (k == w || !A->held[k]) continue;
            const char *k_start = A->views[k].buf, *k_stop = k_start + A->views[k].len;
            if (w_start < k_stop && k_start < w_stop) {
                PyErr_Format(PyExc_ValueError, "%s shares memory with %s", array_names[w],
                             array_names[k]);
                return -1;
            }
        }
    }
    return 0;
}

static PyObject *py_forward(PyObject *self, PyObject *args)
{
    Layer L;
    PyObject *objs[5], *out_obj;
    int threads;
    if (!PyArg_ParseTuple(args, "ifffOOOOOOi", &L.falloff, &L.c, &L.l2, &L.distance, &objs[0],
                          &objs[1], &objs[2], &objs[3], &objs[4], &out_obj, &threads))
        return NULL;
    Arrays A = {0};
    int failed = 0;
    if (take_layer(&A, &L, objs) < 0) goto error;
    float *out = take(&A, OUT, out_obj, 1, 0, L.n_out, L.n_in, &failed);
    if (failed || check_disjoint(&A, OUT) < 0) goto error;
    double penalty = 0.0;
    int status = 0;
    if (L.n_out > 0 && L.n_in > 0) {
        Py_BEGIN_ALLOW_THREADS
        status = layer_forward(&L, out, &penalty, threads);
        Py_END_ALLOW_THREADS
    }
    release(&A);
    if (status < 0) return PyErr_NoMemory();
    return PyFloat_FromDouble(penalty);
error:
    release(&A);
    return NULL;
}

static PyObject *py_backward(PyObject *self, PyObject *args)
{
    Layer L;
    Grads G;
    PyObject *objs[5], *grad_objs[6];
    int threads;
    if (!PyArg_ParseTuple(args, "ifffOOOOOiOfOOOOO", &L.falloff, &L.c, &L.l2, &L.distance,
                          &objs[0], &objs[1], &objs[2], &objs[3], &objs[4], &threads,
                          &grad_objs[0], &G.grad_penalty, &grad_objs[1], &grad_objs[2],
                          &grad_objs[3], &grad_objs[4], &grad_objs[5]))
        return NULL;
    Arrays A = {0};
    int failed = 0;
    if (take_layer(&A, &L, objs) < 0) goto error;
    const Py_ssize_t n_out = L.n_out, n_in = L.n_in, dim = L.dim;
    G.grad = take(&A, GRAD, grad_objs[0], 0, 0, n_out, n_in, &failed);
    if (failed) goto error;
    G.grad_weight = take(&A, GRAD_WEIGHT, grad_objs[1], 1, 1, n_out, n_in, &failed);
    if (failed) goto error;
    G.grad_p_out = take(&A, GRAD_P_OUT, grad_objs[2], 1, 1, n_out, dim, &failed);
    if (failed) goto error;
    G.grad_qt = take(&A, GRAD_QT, grad_objs[3], 1, 1, dim, n_in, &failed);
    if (failed) goto error;
    G.grad_v_out = take(&A, GRAD_V_OUT, grad_objs[4], 1, 1, n_out, dim, &failed);
    if (failed) goto error;
    G.grad_ut = take(&A, GRAD_UT, grad_objs[5], 1, 1, dim, n_in, &failed);
    if (failed) goto error;
    if (L.weight == NULL && G.grad_weight != NULL) {
        PyErr_SetString(PyExc_ValueError, "a particle layer has no weight gradient");
        goto error;
    }
    if (L.weight != NULL && (G.grad_v_out != NULL || G.grad_ut != NULL)) {
        PyErr_SetString(PyExc_ValueError, "a positional layer has no dipole gradients");
        goto error;
    }
    if (check_disjoint(&A, GRAD_WEIGHT) < 0) goto error;
    int status = 0;
    if (n_out > 0 && n_in > 0) {
        Py_BEGIN_ALLOW_THREADS
        status = layer_backward(&L, &G, threads);
        Py_END_ALLOW_THREADS
    }
    release(&A);
    if (status < 0) return PyErr_NoMemory();
    Py_RETURN_NONE;
error:
    release(&A);
    return NULL;
}

static PyMethodDef methods[] = {
    {"forward", py_forward, METH_VARARGS,
     "forward(falloff, c, l2, distance, positions_out, coordinates_in, weight, dipoles_out, "
     "dipole_coordinates_in, out, threads) -> penalty\n\nArrays are C-contiguous float32."},
    {"backward", py_backward, METH_VARARGS,
     "backward(falloff, c, l2, distance, positions_out, coordinates_in, weight, dipoles_out, "
     "dipole_coordinates_in, threads, grad, grad_penalty, grad_weight, grad_positions_out, "
     "grad_coordinates_in, grad_dipoles_out, grad_dipole_coordinates_in)\n\n"
     "Arrays are C-contiguous float32; the gradients are written in place (the input sides "
     "accumulated: zero them first)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_kernels",
                                    "Fused CPU kernels of positional and particle layers.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
