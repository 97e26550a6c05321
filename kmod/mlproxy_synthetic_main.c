// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy_synthetic: a test module (not installed by DKMS) that registers the
 * "synthetic" subsystem, a deterministic, seedable reward landscape whose hidden
 * context drifts over time, defined in docs/subsystems.md. The landscape is
 * mlproxy_landscape.c, which the simulator runs too (as WebAssembly). The in-guest
 * suites load it next to mlproxy.ko; a production system never does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mlproxy.h>
#include "mlproxy_landscape.h"

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

/* Efficiency of the window before the one being planned (0 before any). */
static s64 synth_last_eff;
static struct mlp_subsys *synth_subsys;
static struct mlp_synth synth;

static void synth_collect(void *priv, const struct mlp_window *w, s64 *f)
{
	f[SYN_LOAD] = mlp_synth_load(w->epoch);
	f[SYN_PHASE_HINT] = mlp_synth_hint(&synth, w->epoch);
	f[SYN_LAST_EFF] = w->epoch ? div_s64(synth_last_eff, 1000) : 0;
}

static int synth_apply(void *priv, const struct mlp_window *w)
{
	return 0;	/* the level is read back from w->knobs when measured */
}

static int synth_measure(void *priv, const struct mlp_window *w, s64 *eff)
{
	*eff = mlp_synth_eff(&synth, w->epoch, w->knobs[0]);
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
	synth = (struct mlp_synth) { .seed = synth_seed, .period = synth_period };
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
