// SPDX-License-Identifier: GPL-2.0
/*
 * The WebAssembly face of mlproxy_rules.c and mlproxy_landscape.c, for the
 * simulator (src/transport/sim/rules.ts): scalar functions over state kept
 * here, one slot per simulated subsystem, so that JavaScript passes numbers
 * (BigInt for the 64-bit ones) and never a pointer. Built by
 * scripts/build-wasm.sh with clang --target=wasm32; never part of a module.
 */
#include "../mlproxy_rules.h"
#include "../mlproxy_landscape.h"

/* Exported (the build hides every other symbol). */
#define MLPW_EXPORT	__attribute__((visibility("default")))

/* One simulated subsystem's rule state: what struct mlp_subsys holds. */
struct mlpw_slot {
	struct mlp_ladder lad;
	struct mlp_knob_limits limits[MLP_MAX_KNOBS];
	s64 last[MLP_MAX_KNOBS];	/* knobs of the last advice that ran */
	s64 knobs[MLP_MAX_KNOBS];	/* a recommendation's, limited in place */
	u32 nr_knobs;
	u32 reasons;			/* of the last verdict */
	struct mlp_ladder_out out;	/* of the last ladder call */
};

static u32 mlpw_params[MLP_NR_PARAMS];
static struct mlpw_slot mlpw_slots[MLP_MAX_SUBSYS];

static struct mlpw_slot *mlpw_slot(u32 slot)
{
	return &mlpw_slots[slot % MLP_MAX_SUBSYS];
}

/* ---- the parameter table ---- */

MLPW_EXPORT u32 mlpw_nr_params(void)
{
	return MLP_NR_PARAMS;
}

MLPW_EXPORT const char *mlpw_param_name(u32 i)
{
	return i < MLP_NR_PARAMS ? mlp_params[i].name : NULL;
}

MLPW_EXPORT u32 mlpw_param_def(u32 i)
{
	return i < MLP_NR_PARAMS ? mlp_params[i].def : 0;
}

MLPW_EXPORT u32 mlpw_param_lo(u32 i)
{
	return i < MLP_NR_PARAMS ? mlp_params[i].lo : 0;
}

MLPW_EXPORT u32 mlpw_param_hi(u32 i)
{
	return i < MLP_NR_PARAMS ? mlp_params[i].hi : 0;
}

MLPW_EXPORT bool mlpw_param_zero_ok(u32 i)
{
	return i < MLP_NR_PARAMS && mlp_params[i].zero_ok;
}

MLPW_EXPORT bool mlpw_param_ok(u32 i, u32 val)
{
	return i < MLP_NR_PARAMS && mlp_param_ok(i, val);
}

/* Sets a parameter of this instance (one instance per simulated kernel). */
MLPW_EXPORT void mlpw_set_param(u32 i, u32 val)
{
	if (i < MLP_NR_PARAMS)
		mlpw_params[i] = val;
}

MLPW_EXPORT u32 mlpw_ttl_max_ms(void)
{
	return MLP_TTL_MAX_MS;
}

MLPW_EXPORT s64 mlpw_eff_limit(void)
{
	return MLP_EFF_LIMIT;
}

/* ---- knobs ---- */

MLPW_EXPORT bool mlpw_knob_ok(s64 min, s64 max, s64 step, s64 def, s64 max_delta)
{
	struct mlp_knob_limits k = {
		.min = min, .max = max, .step = step, .max_delta = max_delta,
	};

	return mlp_knob_ok(&k, def);
}

/* A new subsystem in slot: EMERGENCY, no reference, nr knobs to describe. */
MLPW_EXPORT void mlpw_slot_init(u32 slot, u32 nr)
{
	struct mlpw_slot *s = mlpw_slot(slot);

	*s = (struct mlpw_slot) { .nr_knobs = nr % (MLP_MAX_KNOBS + 1) };
	mlp_ladder_init(&s->lad);
}

MLPW_EXPORT void mlpw_slot_knob(u32 slot, u32 i, s64 min, s64 max,
				s64 step, s64 max_delta, s64 def)
{
	struct mlpw_slot *s = mlpw_slot(slot);

	i %= MLP_MAX_KNOBS;
	s->limits[i] = (struct mlp_knob_limits) {
		.min = min, .max = max, .step = step, .max_delta = max_delta,
	};
	s->last[i] = def;
}

MLPW_EXPORT s64 mlpw_knob_on_grid(u32 slot, u32 i, s64 v)
{
	return mlp_knob_on_grid(&mlpw_slot(slot)->limits[i % MLP_MAX_KNOBS], v);
}

/* The advice that runs now sets the step limit's reference. */
MLPW_EXPORT void mlpw_set_last(u32 slot, u32 i, s64 v)
{
	mlpw_slot(slot)->last[i % MLP_MAX_KNOBS] = v;
}

MLPW_EXPORT void mlpw_set_knob(u32 slot, u32 i, s64 v)
{
	mlpw_slot(slot)->knobs[i % MLP_MAX_KNOBS] = v;
}

MLPW_EXPORT s64 mlpw_knob(u32 slot, u32 i)
{
	return mlpw_slot(slot)->knobs[i % MLP_MAX_KNOBS];
}

/* ---- verdicts ---- */

MLPW_EXPORT bool mlpw_advice_window(u32 mode, u64 epoch)
{
	return mlp_advice_window(mlpw_params, mode, epoch);
}

/* The knobs set with set_knob; the reasons with reasons(). */
MLPW_EXPORT u32 mlpw_recommend(u32 slot, u64 epoch, u64 rec_epoch,
			       bool pending, bool strict)
{
	struct mlpw_slot *s = mlpw_slot(slot);
	struct mlp_rec_check c = {
		.mode = s->lad.mode,
		.epoch = epoch,
		.rec_epoch = rec_epoch,
		.pending = pending,
		.strict = strict,
		.nr_knobs = s->nr_knobs,
		.limits = s->limits,
		.last = s->last,
	};

	return mlp_recommend_verdict(mlpw_params, &c, s->knobs, &s->reasons);
}

/* reasons: the pending advice's; reasons() has them with the added bits. */
MLPW_EXPORT u32 mlpw_resolve(u32 slot, u64 epoch, u32 verdict, bool expired,
			     u32 reasons)
{
	struct mlpw_slot *s = mlpw_slot(slot);

	s->reasons = reasons;
	return mlp_resolve_pending(mlpw_params, s->lad.mode, epoch, verdict,
				   expired, &s->reasons);
}

MLPW_EXPORT u32 mlpw_reasons(u32 slot)
{
	return mlpw_slot(slot)->reasons;
}

/* ---- the ladder ---- */

MLPW_EXPORT s64 mlpw_end_window(u32 slot, u64 epoch, u32 mode, bool advice,
				bool idle, bool unreliable, s64 eff,
				bool controlled, bool live)
{
	struct mlpw_slot *s = mlpw_slot(slot);
	struct mlp_window_end w = {
		.epoch = epoch,
		.mode = mode,
		.advice = advice,
		.idle = idle,
		.unreliable = unreliable,
		.eff = eff,
		.controlled = controlled,
		.live = live,
	};

	return mlp_ladder_end_window(&s->lad, mlpw_params, &w, &s->out);
}

MLPW_EXPORT void mlpw_set_mode(u32 slot, u64 epoch, u32 mode, bool pin)
{
	struct mlpw_slot *s = mlpw_slot(slot);

	s->out.nr = 0;
	mlp_ladder_set_mode(&s->lad, epoch, mode, pin, &s->out);
}

MLPW_EXPORT void mlpw_fall(u32 slot, u64 epoch, u32 why)
{
	struct mlpw_slot *s = mlpw_slot(slot);

	s->out.nr = 0;
	mlp_ladder_fall(&s->lad, epoch, why, &s->out);
}

MLPW_EXPORT void mlpw_new_baseline(u32 slot, u64 epoch)
{
	struct mlpw_slot *s = mlpw_slot(slot);

	s->out.nr = 0;
	mlp_ladder_new_baseline(&s->lad, epoch, &s->out);
}

MLPW_EXPORT void mlpw_resync(u32 slot)
{
	mlp_ladder_resync(&mlpw_slot(slot)->lad);
}

MLPW_EXPORT void mlpw_beat(u32 slot)
{
	mlp_ladder_beat(&mlpw_slot(slot)->lad);
}

/* The mode changes of the last ladder call: how many, and each one's why. */
MLPW_EXPORT u32 mlpw_trans_nr(u32 slot)
{
	return mlpw_slot(slot)->out.nr;
}

MLPW_EXPORT u32 mlpw_trans_why(u32 slot, u32 i)
{
	return mlpw_slot(slot)->out.t[i % MLP_LADDER_MAX_TRANS].why;
}

/* The ladder's state and counters, as the status reports them. */
MLPW_EXPORT u32 mlpw_mode(u32 slot)
{
	return mlpw_slot(slot)->lad.mode;
}

MLPW_EXPORT bool mlpw_pinned(u32 slot)
{
	return mlpw_slot(slot)->lad.pinned;
}

MLPW_EXPORT u32 mlpw_good_streak(u32 slot)
{
	return mlpw_slot(slot)->lad.good_streak;
}

MLPW_EXPORT s64 mlpw_baseline_eff(u32 slot)
{
	return mlpw_slot(slot)->lad.baseline_eff;
}

MLPW_EXPORT s64 mlpw_last_eff(u32 slot)
{
	return mlpw_slot(slot)->lad.last_eff;
}

MLPW_EXPORT u64 mlpw_transitions(u32 slot)
{
	return mlpw_slot(slot)->lad.transitions;
}

MLPW_EXPORT u64 mlpw_promotions(u32 slot)
{
	return mlpw_slot(slot)->lad.promotions;
}

MLPW_EXPORT u64 mlpw_demotions(u32 slot)
{
	return mlpw_slot(slot)->lad.demotions;
}

MLPW_EXPORT u64 mlpw_emergencies(u32 slot)
{
	return mlpw_slot(slot)->lad.emergencies;
}

MLPW_EXPORT u64 mlpw_heartbeat_misses(u32 slot)
{
	return mlpw_slot(slot)->lad.heartbeat_misses;
}

MLPW_EXPORT u32 mlpw_last_transition(u32 slot)
{
	return mlpw_slot(slot)->lad.last_transition;
}

MLPW_EXPORT u64 mlpw_last_transition_epoch(u32 slot)
{
	return mlpw_slot(slot)->lad.last_transition_epoch;
}

/* ---- the synthetic landscape ---- */

MLPW_EXPORT u32 mlpw_hash32(u32 x)
{
	return mlp_hash32(x);
}

MLPW_EXPORT s64 mlpw_synth_opt(u32 seed, u32 period, u64 w)
{
	struct mlp_synth p = { .seed = seed, .period = period };

	return mlp_synth_opt(&p, w);
}

MLPW_EXPORT s64 mlpw_synth_load(u64 w)
{
	return mlp_synth_load(w);
}

MLPW_EXPORT s64 mlpw_synth_hint(u32 seed, u32 period, u64 w)
{
	struct mlp_synth p = { .seed = seed, .period = period };

	return mlp_synth_hint(&p, w);
}

MLPW_EXPORT s64 mlpw_synth_noise(u32 seed, u32 period, u64 w)
{
	struct mlp_synth p = { .seed = seed, .period = period };

	return mlp_synth_noise(&p, w);
}

MLPW_EXPORT s64 mlpw_synth_eff(u32 seed, u32 period, u64 w, s64 level)
{
	struct mlp_synth p = { .seed = seed, .period = period };

	return mlp_synth_eff(&p, w, level);
}
