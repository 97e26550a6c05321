// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy_synthetic: a test module (not installed by DKMS) that registers the
 * "synthetic" subsystem, a deterministic, seedable reward landscape whose hidden
 * context drifts over time, defined in docs/subsystems.md. All integer
 * arithmetic; the TypeScript SimDevice computes the same numbers. The in-guest
 * suites load it next to mlproxy.ko; a production system never does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mlproxy.h>

static unsigned int synth_seed = 42;
module_param_named(seed, synth_seed, uint, 0444);
MODULE_PARM_DESC(seed, "seed of the noise (u32, default 42)");

static unsigned int synth_period = 100;
module_param_named(period, synth_period, uint, 0444);
MODULE_PARM_DESC(period, "windows per hidden phase (1..1000000, default 100)");

static unsigned int synth_window_ms = 50;
module_param_named(window_ms, synth_window_ms, uint, 0444);
MODULE_PARM_DESC(window_ms, "window length in ms (5..60000, default 50)");

enum { SYN_LOAD, SYN_PHASE_HINT, SYN_LAST_EFF, SYN_NR_FEATURES };

static const struct mlp_feature_schema synth_features[SYN_NR_FEATURES] = {
	[SYN_LOAD] = { .name = "load", .unit = "permille", .scale = 1000 },
	[SYN_PHASE_HINT] = { .name = "phase_hint", .unit = "permille",
			     .scale = 1000 },
	[SYN_LAST_EFF] = { .name = "last_eff", .unit = "permille",
			   .scale = 1000 },
};

static const struct mlp_knob_schema synth_knobs[] = {
	{ .name = "level", .unit = "", .min = 0, .max = 15, .step = 1,
	  .def = 4, .max_delta = 8 },
};

static const s64 synth_opt[4] = { 10, 6, 13, 4 };

/* Efficiency of the window before the one being planned (0 before any). */
static s64 synth_last_eff;
static struct mlp_subsys *synth_subsys;

static u32 synth_hash32(u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static u32 synth_phase(u64 w)
{
	return (u32)(div_u64(w, synth_period) & 3);
}

static s64 synth_load(u64 w)
{
	u32 t;

	div_u64_rem(w, 200, &t);
	return t < 100 ? (s64)t * 10 : (s64)(200 - t) * 10;
}

static s64 synth_eff(u64 w, s64 level)
{
	s64 noise = (s64)(synth_hash32((u32)(2 * w + 1) ^ synth_seed) % 40001)
		    - 20000;
	s64 d = level - synth_opt[synth_phase(w)];
	s64 eff = 1000000 - 12000 * d * d - 100 * synth_load(w) + noise;

	return eff > 0 ? eff : 0;
}

static s64 synth_hint(u64 w)
{
	return (s64)synth_phase(w) * 250 +
	       (s64)(synth_hash32((u32)(2 * w) ^ synth_seed) % 101) - 50;
}

static void synth_collect(void *priv, const struct mlp_window *w, s64 *f)
{
	f[SYN_LOAD] = synth_load(w->epoch);
	f[SYN_PHASE_HINT] = synth_hint(w->epoch);
	f[SYN_LAST_EFF] = w->epoch ? div_s64(synth_last_eff, 1000) : 0;
}

static int synth_apply(void *priv, const struct mlp_window *w)
{
	return 0;	/* the level is read back from w->knobs when measured */
}

static int synth_measure(void *priv, const struct mlp_window *w, s64 *eff)
{
	*eff = synth_eff(w->epoch, w->knobs[0]);
	synth_last_eff = *eff;
	return 0;
}

static struct mlp_subsys_ops synth_ops = {
	.name = "synthetic",
	.nr_features = SYN_NR_FEATURES,
	.features = synth_features,
	.nr_knobs = ARRAY_SIZE(synth_knobs),
	.knobs = synth_knobs,
	.collect_state = synth_collect,
	.apply = synth_apply,
	.measure = synth_measure,
};

static int __init synth_init(void)
{
	if (synth_period < 1 || synth_period > 1000000) {
		pr_err("parameter period=%u is out of range [1, 1000000]\n",
		       synth_period);
		return -EINVAL;
	}
	if (synth_window_ms < 5 || synth_window_ms > 60000) {
		pr_err("parameter window_ms=%u is out of range [5, 60000]\n",
		       synth_window_ms);
		return -EINVAL;
	}
	synth_ops.window_ms = synth_window_ms;
	synth_last_eff = 0;
	synth_subsys = mlp_register_subsystem(&synth_ops);
	return PTR_ERR_OR_ZERO(synth_subsys);
}

static void __exit synth_exit(void)
{
	mlp_unregister_subsystem(synth_subsys);
}

module_init(synth_init);
module_exit(synth_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mlproxy: the synthetic test subsystem of docs/subsystems.md");
