// oneDNN (Debian's libdnnl 2.6) on the convolutions of Laminar's image models, for the choice of
// convolution engine (docs/design.md): forward, backward-data and backward-weights on plain NCHW
// tensors (Laminar's layout), medians of 20 calls after 3 warm-ups, one line of JSON per
// operation. Needs Debian's libdnnl-dev (not a dependency of Laminar). Build and run (one thread):
//   cc -O2 Benchmarks/peers/onednn_conv.c -ldnnl -o /tmp/onednn_conv && OMP_NUM_THREADS=1 /tmp/onednn_conv
// `laminar-bench conv` times Laminar's engine on the same shapes.
#include <dnnl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(f) do { dnnl_status_t s_ = (f); if (s_ != dnnl_success) { \
    fprintf(stderr, "%s failed: %d\n", #f, (int)s_); exit(1); } } while (0)

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static float *filled(size_t n) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

static double median_time(dnnl_primitive_t prim, dnnl_stream_t stream, int nargs, dnnl_exec_arg_t *args) {
    double t[20];
    for (int i = 0; i < 3; i++) CHECK(dnnl_primitive_execute(prim, stream, nargs, args));
    CHECK(dnnl_stream_wait(stream));
    for (int i = 0; i < 20; i++) {
        double t0 = now();
        CHECK(dnnl_primitive_execute(prim, stream, nargs, args));
        CHECK(dnnl_stream_wait(stream));
        t[i] = now() - t0;
    }
    qsort(t, 20, sizeof(double), cmp);
    return t[10];
}

static const char *impl(const_dnnl_primitive_desc_t pd) {
    const char *s = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
    return s;
}

static void run(const char *name, int n, int c, int h, int w, int o, int k, int stride, int pad) {
    int ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    CHECK(dnnl_engine_create(&engine, dnnl_cpu, 0));
    CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags));
    dnnl_dims_t xd = {n, c, h, w}, wd = {o, c, k, k}, bd = {o}, yd = {n, o, ho, wo};
    dnnl_dims_t strides = {stride, stride}, pads = {pad, pad};
    dnnl_memory_desc_t xm, wm, bm, ym;
    CHECK(dnnl_memory_desc_init_by_tag(&xm, 4, xd, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_init_by_tag(&wm, 4, wd, dnnl_f32, dnnl_oihw));
    CHECK(dnnl_memory_desc_init_by_tag(&bm, 1, bd, dnnl_f32, dnnl_x));
    CHECK(dnnl_memory_desc_init_by_tag(&ym, 4, yd, dnnl_f32, dnnl_nchw));
    float *x = filled((size_t)n * c * h * w), *wt = filled((size_t)o * c * k * k), *b = filled(o);
    float *y = filled((size_t)n * o * ho * wo), *gx = filled((size_t)n * c * h * w), *gw = filled((size_t)o * c * k * k);
    float *gb = filled(o);
    dnnl_memory_t xmem, wmem, bmem, ymem, gxmem, gwmem, gbmem;
    CHECK(dnnl_memory_create(&xmem, &xm, engine, x));
    CHECK(dnnl_memory_create(&wmem, &wm, engine, wt));
    CHECK(dnnl_memory_create(&bmem, &bm, engine, b));
    CHECK(dnnl_memory_create(&ymem, &ym, engine, y));
    CHECK(dnnl_memory_create(&gxmem, &xm, engine, gx));
    CHECK(dnnl_memory_create(&gwmem, &wm, engine, gw));
    CHECK(dnnl_memory_create(&gbmem, &bm, engine, gb));

    dnnl_convolution_desc_t fd, dd, wdsc;
    CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct, &xm, &wm, &bm, &ym,
                                             strides, pads, pads));
    dnnl_primitive_desc_t fpd, dpd, wpd;
    CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, engine, NULL));
    CHECK(dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &xm, &wm, &ym, strides, pads, pads));
    CHECK(dnnl_primitive_desc_create(&dpd, &dd, NULL, engine, fpd));
    CHECK(dnnl_convolution_backward_weights_desc_init(&wdsc, dnnl_convolution_direct, &xm, &wm, &bm, &ym, strides, pads,
                                                      pads));
    CHECK(dnnl_primitive_desc_create(&wpd, &wdsc, NULL, engine, fpd));
    dnnl_primitive_t fp, dp, wp;
    CHECK(dnnl_primitive_create(&fp, fpd));
    CHECK(dnnl_primitive_create(&dp, dpd));
    CHECK(dnnl_primitive_create(&wp, wpd));

    dnnl_exec_arg_t fa[] = {{DNNL_ARG_SRC, xmem}, {DNNL_ARG_WEIGHTS, wmem}, {DNNL_ARG_BIAS, bmem}, {DNNL_ARG_DST, ymem}};
    dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, ymem}, {DNNL_ARG_WEIGHTS, wmem}, {DNNL_ARG_DIFF_SRC, gxmem}};
    dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, xmem}, {DNNL_ARG_DIFF_DST, ymem}, {DNNL_ARG_DIFF_WEIGHTS, gwmem},
                            {DNNL_ARG_DIFF_BIAS, gbmem}};
    double tf = median_time(fp, stream, 4, fa), td = median_time(dp, stream, 3, da), tw = median_time(wp, stream, 4, wa);
    printf("{\"peer\": \"onednn-%d.%d.%d\", \"shape\": \"%s\", \"forward_s\": %.6g, \"backward_data_s\": %.6g, "
           "\"backward_weights_s\": %.6g, \"impl\": [\"%s\", \"%s\", \"%s\"]}\n",
           dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch, name, tf, td, tw, impl(fpd), impl(dpd),
           impl(wpd));
}

int main(void) {
    // The shapes of laminar-bench's `conv` case.
    run("odenet block 128x65x6x6 -> 64, 3x3 p1", 128, 65, 6, 6, 64, 3, 1, 1);
    run("stem 128x64x26x26 -> 64, 4x4 s2 p1", 128, 64, 26, 26, 64, 4, 2, 1);
    run("cnf 64x33x28x28 -> 32, 3x3 p1", 64, 33, 28, 28, 32, 3, 1, 1);
    run("cnf 64x33x14x14 -> 32, 3x3 p1", 64, 33, 14, 14, 32, 3, 1, 1);
    return 0;
}
