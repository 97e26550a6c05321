// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy_selftest: a separate module that uses mlproxy's in-kernel API the way
 * any other module would. At load it checks that bad subsystem descriptions are
 * refused, then registers "selftest", a noiseless subsystem for testing the
 * ladder and the edge cases the synthetic landscape cannot reach:
 *
 *   knob x: min -12, max 12, step 2, default 0, max_delta 24;
 *   eff(window) = base_eff + 50000 * x (base_eff 1000000 by default: x = 2 is
 *                 good, x = -2 a regression, x = -12 a collapse), exactly;
 *   every idle_every-th window (epoch % idle_every == idle_every - 1) is idle;
 *   applying x = 12 fails, so the window runs the baseline instead;
 *   hold_ms > 0: measure() sleeps that long, so the window work holds the
 *   subsystem's lock (for the tests that readers never wait for it).
 *
 * Features: the window's epoch and the number of apply calls so far.
 *
 * With wide=1 a second subsystem, "selftest_wide", has one knob of the widest
 * legal range (min -2^62 + 1, max 2^62, step 1, max_delta 2^63 - 1, default 0);
 * its apply() counts values outside [min, max] (feature "violations"), which the
 * kernel must never pass.
 *
 * Loading fails (-EINVAL, with a log line) if a registration check fails.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mlproxy.h>

static unsigned int window_ms = 20;
module_param(window_ms, uint, 0444);
MODULE_PARM_DESC(window_ms, "window length in ms (default 20)");

static unsigned int idle_every;
module_param(idle_every, uint, 0444);
MODULE_PARM_DESC(idle_every, "every n-th window is idle (0: none, default)");

static long base_eff = 1000000;
module_param(base_eff, long, 0444);
MODULE_PARM_DESC(base_eff, "efficiency at x = 0 (default 1000000; may be 0 or negative)");

static unsigned int hold_ms;
module_param(hold_ms, uint, 0444);
MODULE_PARM_DESC(hold_ms, "measure() sleeps this long (0: not at all, default)");

static bool wide;
module_param(wide, bool, 0444);
MODULE_PARM_DESC(wide, "also register selftest_wide, a knob of the widest range");

#define SELFTEST_FAILING_X	12

static const struct mlp_feature_schema st_features[] = {
	{ .name = "epoch", .unit = "window", .scale = 1 },
	{ .name = "applies", .unit = "calls", .scale = 1 },
};

static const struct mlp_knob_schema st_knobs[] = {
	{ .name = "x", .unit = "", .min = -12, .max = 12, .step = 2, .def = 0,
	  .max_delta = 24 },
};

static atomic64_t st_applies = ATOMIC64_INIT(0);
static struct mlp_subsys *st_subsys;

static void st_collect(void *priv, const struct mlp_window *w, s64 *f)
{
	f[0] = w->epoch;
	f[1] = atomic64_read(&st_applies);
}

static int st_apply(void *priv, const struct mlp_window *w)
{
	atomic64_inc(&st_applies);
	return w->knobs[0] == SELFTEST_FAILING_X ? -EIO : 0;
}

static int st_measure(void *priv, const struct mlp_window *w, s64 *eff)
{
	u32 rem;

	if (idle_every) {
		div_u64_rem(w->epoch, idle_every, &rem);
		if (rem == idle_every - 1)
			return -ENODATA;
	}
	if (hold_ms)
		msleep(hold_ms);
	*eff = base_eff + 50000 * w->knobs[0];
	return 0;
}

/* selftest_wide: the widest knob; the kernel may pass only values within it. */
static const struct mlp_knob_schema wide_knobs[] = {
	{ .name = "w", .unit = "", .min = -(1LL << 62) + 1, .max = 1LL << 62,
	  .step = 1, .def = 0, .max_delta = S64_MAX },
};

static const struct mlp_feature_schema wide_features[] = {
	{ .name = "violations", .unit = "calls", .scale = 1 },
};

static atomic64_t wide_violations = ATOMIC64_INIT(0);
static struct mlp_subsys *wide_subsys;

static void wide_collect(void *priv, const struct mlp_window *w, s64 *f)
{
	f[0] = atomic64_read(&wide_violations);
}

static int wide_apply(void *priv, const struct mlp_window *w)
{
	if (w->knobs[0] < wide_knobs[0].min || w->knobs[0] > wide_knobs[0].max)
		atomic64_inc(&wide_violations);
	return 0;
}

static int wide_measure(void *priv, const struct mlp_window *w, s64 *eff)
{
	*eff = 1000000;
	return 0;
}

static struct mlp_subsys_ops wide_ops = {
	.name = "selftest_wide",
	.nr_features = ARRAY_SIZE(wide_features),
	.features = wide_features,
	.nr_knobs = ARRAY_SIZE(wide_knobs),
	.knobs = wide_knobs,
	.collect_state = wide_collect,
	.apply = wide_apply,
	.measure = wide_measure,
};

static const struct mlp_subsys_ops st_ops_template = {
	.name = "selftest",
	.nr_features = ARRAY_SIZE(st_features),
	.features = st_features,
	.nr_knobs = ARRAY_SIZE(st_knobs),
	.knobs = st_knobs,
	.collect_state = st_collect,
	.apply = st_apply,
	.measure = st_measure,
};

static struct mlp_subsys_ops st_ops;

/* A description that breaks no rule must be accepted. */
static int st_expect_accepted(const char *what, const struct mlp_subsys_ops *ops)
{
	struct mlp_subsys *s = mlp_register_subsystem(ops);

	if (!IS_ERR(s)) {
		mlp_unregister_subsystem(s);
		return 0;
	}
	pr_err("registration check failed: %s gave %ld, want success\n", what,
	       PTR_ERR(s));
	return -EINVAL;
}

/* Each case breaks one rule of a valid description. */
static int st_expect_refused(const char *what, const struct mlp_subsys_ops *ops,
			     long want)
{
	struct mlp_subsys *s = mlp_register_subsystem(ops);

	if (IS_ERR(s) && PTR_ERR(s) == want)
		return 0;
	pr_err("registration check failed: %s gave %ld, want %ld\n", what,
	       IS_ERR(s) ? PTR_ERR(s) : 0L, want);
	if (!IS_ERR(s))
		mlp_unregister_subsystem(s);
	return -EINVAL;
}

static int st_check_registration(void)
{
	struct mlp_knob_schema k = st_knobs[0];
	struct mlp_subsys_ops o;
	int err = 0;

#define REFUSED(what, change, want) do {				\
		o = st_ops; k = st_knobs[0]; o.knobs = &k; change;	\
		err |= st_expect_refused(what, &o, want);		\
	} while (0)
	err |= st_expect_refused("no ops", NULL, -EINVAL);
	REFUSED("empty name", o.name = "", -EINVAL);
	REFUSED("long name", o.name = "a_name_of_thirty_two_characters_", -EINVAL);
	REFUSED("no measure", o.measure = NULL, -EINVAL);
	REFUSED("window 1 ms", o.window_ms = 1, -EINVAL);
	REFUSED("no knobs", o.nr_knobs = 0, -EINVAL);
	REFUSED("9 knobs", o.nr_knobs = MLP_MAX_KNOBS + 1, -EINVAL);
	REFUSED("17 features", o.nr_features = MLP_MAX_FEATURES + 1, -EINVAL);
	REFUSED("step 0", k.step = 0, -EINVAL);
	REFUSED("min > max", k.min = 20, -EINVAL);
	REFUSED("max off grid", k.max = 11, -EINVAL);
	REFUSED("default off grid", k.def = 1, -EINVAL);
	REFUSED("default out of bounds", k.def = 14, -EINVAL);
	REFUSED("max_delta off grid", k.max_delta = 3, -EINVAL);
	REFUSED("max_delta too large", k.max_delta = 26, -EINVAL);
	REFUSED("huge bounds", k.max = 1LL << 62 | 2, -EINVAL);
	REFUSED("duplicate name", o.name = "selftest_dup", -EEXIST);
	/* The widest bounds: every range computation must fit (no overflow). */
	o = st_ops;
	o.name = "selftest_range";
	k = st_knobs[0];
	k.min = -(1LL << 62);
	k.max = 1LL << 62;
	k.step = 1;
	k.max_delta = S64_MAX;
	o.knobs = &k;
	err |= st_expect_accepted("full range", &o);
#undef REFUSED
	mlp_unregister_subsystem(NULL);
	mlp_unregister_subsystem(ERR_PTR(-EINVAL));
	return err;
}

/* A name taken during the checks (synthetic may not be loaded). */
static struct mlp_subsys_ops dup_ops;

static int __init st_init(void)
{
	struct mlp_subsys *dup;
	int err;

	if (window_ms < 5 || window_ms > 60000) {
		pr_err("parameter window_ms=%u is out of range [5, 60000]\n",
		       window_ms);
		return -EINVAL;
	}
	st_ops = st_ops_template;
	st_ops.window_ms = window_ms;
	dup_ops = st_ops_template;
	dup_ops.name = "selftest_dup";
	dup_ops.window_ms = 3600000;
	dup = mlp_register_subsystem(&dup_ops);
	if (IS_ERR(dup))
		return PTR_ERR(dup);
	err = st_check_registration();
	mlp_unregister_subsystem(dup);
	if (err)
		return -EINVAL;
	st_subsys = mlp_register_subsystem(&st_ops);
	if (IS_ERR(st_subsys))
		return PTR_ERR(st_subsys);
	if (wide) {
		wide_ops.window_ms = window_ms;
		wide_subsys = mlp_register_subsystem(&wide_ops);
		if (IS_ERR(wide_subsys)) {
			mlp_unregister_subsystem(st_subsys);
			return PTR_ERR(wide_subsys);
		}
	}
	pr_info("registration checks passed; subsystem selftest registered%s\n",
		wide ? ", and selftest_wide" : "");
	return 0;
}

static void __exit st_exit(void)
{
	mlp_unregister_subsystem(wide_subsys);
	mlp_unregister_subsystem(st_subsys);
}

module_init(st_init);
module_exit(st_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("mlproxy: registration API checks and a noiseless test subsystem");
