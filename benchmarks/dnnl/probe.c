// probe times oneDNN's convolutions (forward, backward data, backward
// weights) on one convolution shape in three layouts: the activations in
// our NCHW and the weights in OIHW (as the toolkit holds them); NHWC
// activations; and the layouts oneDNN picks for itself (format "any",
// reorders not counted). It is the measurement the oneDNN backend
// (internal/dnnl) was designed from, not part of the toolkit:
//
//   gcc -O2 benchmarks/dnnl/probe.c -o bin/dnnl-probe -ldnnl   # Debian: libdnnl-dev
//   OMP_NUM_THREADS=2 bin/dnnl-probe N C H W K R STRIDE PAD
//
// e.g. resnet-20's stage-1 convolution at batch 100 on 28×28 input:
//   bin/dnnl-probe 100 16 28 28 16 3 1 1
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <oneapi/dnnl/dnnl.h>

#define CHECK(x) do { dnnl_status_t s_ = (x); if (s_ != dnnl_success) { \
	fprintf(stderr, "%s: status %d\n", #x, (int)s_); exit(1); } } while (0)

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static dnnl_engine_t eng;
static dnnl_stream_t str;

static dnnl_memory_t mem(const dnnl_memory_desc_t *md) {
	dnnl_memory_t m;
	CHECK(dnnl_memory_create(&m, md, eng, DNNL_MEMORY_ALLOCATE));
	size_t n = dnnl_memory_desc_get_size(md);
	float *p;
	CHECK(dnnl_memory_get_data_handle(m, (void **)&p));
	for (size_t i = 0; i < n / sizeof(float); i++) p[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
	return m;
}

static const dnnl_memory_desc_t *q(const_dnnl_primitive_desc_t pd, dnnl_query_t what) {
	return dnnl_primitive_desc_query_md(pd, what, 0);
}

// bench runs p reps times after two warm-up runs and returns seconds a run.
static double bench(dnnl_primitive_t p, int nargs, dnnl_exec_arg_t *args, int reps) {
	for (int i = 0; i < 2; i++) CHECK(dnnl_primitive_execute(p, str, nargs, args));
	CHECK(dnnl_stream_wait(str));
	double t = now();
	for (int i = 0; i < reps; i++) CHECK(dnnl_primitive_execute(p, str, nargs, args));
	CHECK(dnnl_stream_wait(str));
	return (now() - t) / reps;
}

static void run(long n, long c, long h, long w, long k, long r, long s, long pad, int layout) {
	long oh = (h + 2 * pad - r) / s + 1, ow = (w + 2 * pad - r) / s + 1;
	dnnl_dims_t sd = {n, c, h, w}, wd = {k, c, r, r}, dd = {n, k, oh, ow};
	dnnl_dims_t strides = {s, s}, padl = {pad, pad}, padr = {pad, pad};
	dnnl_memory_desc_t src, wei, dst;
	// 0: NCHW activations, OIHW weights; 1: NHWC activations, weights as
	// oneDNN likes; 2: both as oneDNN likes (blocked).
	static const char *names[] = {"nchw/oihw", "nhwc/any", "any/any"};
	dnnl_format_tag_t act = layout == 0 ? dnnl_nchw : layout == 1 ? dnnl_nhwc : dnnl_format_tag_any;
	dnnl_format_tag_t wf = layout == 0 ? dnnl_oihw : dnnl_format_tag_any;
	CHECK(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, act));
	CHECK(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, wf));
	CHECK(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, act));
	double flop = 2.0 * n * k * oh * ow * c * r * r;

	dnnl_convolution_desc_t fd, bdd, bwd;
	CHECK(dnnl_convolution_forward_desc_init(&fd, dnnl_forward_training, dnnl_convolution_direct,
		&src, &wei, NULL, &dst, strides, padl, padr));
	dnnl_primitive_desc_t fpd, bdpd, bwpd;
	CHECK(dnnl_primitive_desc_create(&fpd, &fd, NULL, eng, NULL));
	CHECK(dnnl_convolution_backward_data_desc_init(&bdd, dnnl_convolution_direct,
		&src, &wei, &dst, strides, padl, padr));
	CHECK(dnnl_primitive_desc_create(&bdpd, &bdd, NULL, eng, fpd));
	CHECK(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct,
		&src, &wei, NULL, &dst, strides, padl, padr));
	CHECK(dnnl_primitive_desc_create(&bwpd, &bwd, NULL, eng, fpd));

	dnnl_memory_t ms = mem(q(fpd, dnnl_query_src_md)), mw = mem(q(fpd, dnnl_query_weights_md));
	dnnl_memory_t md = mem(q(fpd, dnnl_query_dst_md));
	dnnl_memory_t mds = mem(q(bdpd, dnnl_query_diff_src_md)), mdd = mem(q(bdpd, dnnl_query_diff_dst_md));
	dnnl_memory_t mdw = mem(q(bwpd, dnnl_query_diff_weights_md));
	dnnl_memory_t mdd2 = mem(q(bwpd, dnnl_query_diff_dst_md)), ms2 = mem(q(bwpd, dnnl_query_src_md));

	dnnl_primitive_t f, bd, bw;
	CHECK(dnnl_primitive_create(&f, fpd));
	CHECK(dnnl_primitive_create(&bd, bdpd));
	CHECK(dnnl_primitive_create(&bw, bwpd));
	dnnl_exec_arg_t fa[] = {{DNNL_ARG_SRC, ms}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DST, md}};
	dnnl_exec_arg_t da[] = {{DNNL_ARG_DIFF_DST, mdd}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mds}};
	dnnl_exec_arg_t wa[] = {{DNNL_ARG_SRC, ms2}, {DNNL_ARG_DIFF_DST, mdd2}, {DNNL_ARG_DIFF_WEIGHTS, mdw}};
	int reps = 20;
	const char *fi, *di, *wi;
	CHECK(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &fi));
	CHECK(dnnl_primitive_desc_query(bdpd, dnnl_query_impl_info_str, 0, &di));
	CHECK(dnnl_primitive_desc_query(bwpd, dnnl_query_impl_info_str, 0, &wi));
	double tf = bench(f, 3, fa, reps), td = bench(bd, 3, da, reps), tw = bench(bw, 3, wa, reps);
	printf("{\"layout\":\"%s\",\"shape\":[%ld,%ld,%ld,%ld,%ld,%ld,%ld,%ld],"
		"\"forward_ms\":%.3f,\"forward_impl\":\"%s\",\"backward_data_ms\":%.3f,\"backward_data_impl\":\"%s\","
		"\"backward_weights_ms\":%.3f,\"backward_weights_impl\":\"%s\",\"gflop_per_pass\":%.3f,"
		"\"gflop_per_s\":[%.1f,%.1f,%.1f]}\n",
		names[layout], n, c, h, w, k, r, s, pad, tf * 1e3, fi, td * 1e3, di, tw * 1e3, wi,
		flop / 1e9, flop / tf / 1e9, flop / td / 1e9, flop / tw / 1e9);
}

int main(int argc, char **argv) {
	if (argc != 9) {
		fprintf(stderr, "usage: %s N C H W K R STRIDE PAD\n", argv[0]);
		return 2;
	}
	long v[8];
	for (int i = 0; i < 8; i++) v[i] = atol(argv[i + 1]);
	CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
	CHECK(dnnl_stream_create(&str, eng, dnnl_stream_default_flags));
	for (int layout = 0; layout < 3; layout++) run(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], layout);
	return 0;
}
