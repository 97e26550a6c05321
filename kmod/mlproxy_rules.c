// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy's rules (see mlproxy_rules.h): built into mlproxy.ko and, unchanged,
 * into the simulator's WebAssembly (scripts/build-wasm.sh). Integer only; every
 * product below is bounded in the comment next to it.
 */
#include "mlproxy_rules.h"

/*
 * The parameter table: the module checks its parameters against it at load,
 * and the simulator reads it from the WebAssembly build.
 */
#define MLP_PARAM(id, nm, d, l, h, z) \
	[MLP_P_##id] = { .name = #nm, .def = d, .lo = l, .hi = h, .zero_ok = z },
const struct mlp_param mlp_params[MLP_NR_PARAMS] = {
#include "mlproxy_params.h"
};

#undef MLP_PARAM

bool mlp_param_ok(enum mlp_param_id id, u32 val)
{
	const struct mlp_param *p = &mlp_params[id];

	return (val == 0 && p->zero_ok) || (val >= p->lo && val <= p->hi);
}

bool mlp_advice_window(const u32 *p, u32 mode, u64 epoch)
{
	u32 rem;

	switch (mode) {
	case MLP_MODE_LEARNING:
		div_u64_rem(epoch, p[MLP_P_LEARNING_PERIOD], &rem);
		return rem == 0;
	case MLP_MODE_COLLABORATION:
		return !(epoch & 1);
	case MLP_MODE_RECOMMENDATION:
		if (!p[MLP_P_CHECK_PERIOD])
			return true;
		div_u64_rem(epoch, p[MLP_P_CHECK_PERIOD], &rem);
		return rem != 0;
	default:
		return false;
	}
}

/* x % step == 0, for x >= 0 held in a u64 */
static bool mlp_on_grid(u64 x, s64 step)
{
	u64 rem;

	div64_u64_rem(x, (u64)step, &rem);
	return !rem;
}

/*
 * A knob's numbers are sound: within +-2^62 (so every difference below fits
 * a u64 exactly), the range, the default and max_delta on the step grid.
 */
bool mlp_knob_ok(const struct mlp_knob_limits *k, s64 def)
{
	u64 range;

	if (k->min < -MLP_KNOB_LIMIT || k->max > MLP_KNOB_LIMIT ||
	    k->min > k->max || k->step <= 0)
		return false;
	range = (u64)k->max - (u64)k->min;
	return mlp_on_grid(range, k->step) && def >= k->min && def <= k->max &&
	       mlp_on_grid((u64)def - (u64)k->min, k->step) &&
	       k->max_delta >= 0 && (u64)k->max_delta <= range &&
	       mlp_on_grid(k->max_delta, k->step);
}

static s64 mlp_clamp(s64 x, s64 lo, s64 hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* v within the knob's bounds and down to its grid (a new baseline's default). */
s64 mlp_knob_on_grid(const struct mlp_knob_limits *k, s64 v)
{
	u64 rem;

	v = mlp_clamp(v, k->min, k->max);
	div64_u64_rem((u64)(v - k->min), (u64)k->step, &rem);
	return v - rem;
}

/* a + b and a - b, saturated to the s64 range. */
static s64 mlp_add_sat(s64 a, s64 b)
{
	s64 r;

	if (check_add_overflow(a, b, &r))
		return b > 0 ? S64_MAX : S64_MIN;
	return r;
}

static s64 mlp_sub_sat(s64 a, s64 b)
{
	s64 r;

	if (check_sub_overflow(a, b, &r))
		return b > 0 ? S64_MIN : S64_MAX;
	return r;
}

/*
 * One knob through bounds, grid and step limit (from last, the value the last
 * advice that ran gave it); returns its reason bits. The step limit saturates
 * (max_delta may be as large as max - min, 2^63 - 1), and the result is clamped
 * into [min, max] once more whatever happened before.
 */
u32 mlp_limit_knob(const struct mlp_knob_limits *k, s64 last, s64 *v)
{
	u32 reasons = 0;
	s64 x = *v, hi, lo;
	u64 rem;

	if (x < k->min || x > k->max) {
		x = mlp_clamp(x, k->min, k->max);
		reasons |= MLP_REASON_OUT_OF_BOUNDS;
	}
	div64_u64_rem((u64)x - (u64)k->min, (u64)k->step, &rem);
	if (rem) {
		x -= rem;
		reasons |= MLP_REASON_OFF_GRID;
	}
	if (k->max_delta) {
		hi = mlp_add_sat(last, k->max_delta);
		lo = mlp_sub_sat(last, k->max_delta);
		if (x > hi) {
			x = hi;
			reasons |= MLP_REASON_STEP_LIMIT;
		} else if (x < lo) {
			x = lo;
			reasons |= MLP_REASON_STEP_LIMIT;
		}
	}
	*v = mlp_clamp(x, k->min, k->max);
	return reasons;
}

static u32 mlp_shadow_reason(u32 mode)
{
	return mode == MLP_MODE_EMERGENCY ? MLP_REASON_EMERGENCY :
					    MLP_REASON_BASELINE_WINDOW;
}

/*
 * The verdict of a recommendation for window epoch + 1. The first failing check
 * decides: staleness, rate, then the knobs (limited in place; a stale or
 * rate-limited recommendation keeps its knobs). Strict recommendations are
 * rejected instead of clamped; one for a baseline window is shadowed.
 */
u32 mlp_recommend_verdict(const u32 *p, const struct mlp_rec_check *c,
			  s64 *knobs, u32 *reasons)
{
	u32 why = 0, i;

	if (c->epoch - c->rec_epoch > p[MLP_P_MAX_EPOCH_LAG]) {
		why = MLP_REASON_STALE;
	} else if (c->pending) {
		why = MLP_REASON_RATE_LIMIT;
	} else {
		for (i = 0; i < c->nr_knobs; i++)
			why |= mlp_limit_knob(&c->limits[i], c->last[i],
					      &knobs[i]);
	}
	*reasons = why;
	if ((why & (MLP_REASON_STALE | MLP_REASON_RATE_LIMIT)) ||
	    (why && c->strict))
		return MLP_VERDICT_REJECTED;
	if (!mlp_advice_window(p, c->mode, c->epoch + 1)) {
		*reasons |= mlp_shadow_reason(c->mode);
		return MLP_VERDICT_SHADOWED;
	}
	return why ? MLP_VERDICT_CLAMPED : MLP_VERDICT_APPLIED;
}

/*
 * The fate of accepted advice as its window epoch starts: shadowed if the mode
 * changed meanwhile so that the window runs the baseline, rejected (expired) if
 * its ttl passed, else it runs and keeps its verdict. Adds the reason bits.
 */
u32 mlp_resolve_pending(const u32 *p, u32 mode, u64 epoch, u32 verdict,
			bool expired, u32 *reasons)
{
	if (verdict == MLP_VERDICT_SHADOWED)
		return verdict;
	if (!mlp_advice_window(p, mode, epoch)) {
		*reasons |= mlp_shadow_reason(mode);
		return MLP_VERDICT_SHADOWED;
	}
	if (expired) {
		*reasons |= MLP_REASON_EXPIRED;
		return MLP_VERDICT_REJECTED;
	}
	return verdict;
}

void mlp_ladder_init(struct mlp_ladder *l)
{
	*l = (struct mlp_ladder) { .mode = MLP_MODE_EMERGENCY };
}

/*
 * Change the mode at the end of window epoch or during it: either way the new
 * mode governs from window epoch + 1, and last_transition_epoch is epoch.
 */
static void mlp_transition(struct mlp_ladder *l, u64 epoch, u32 mode, u32 why,
			   struct mlp_ladder_out *out)
{
	if (out->nr < MLP_LADDER_MAX_TRANS) {
		out->t[out->nr].from = l->mode;
		out->t[out->nr].to = mode;
		out->t[out->nr].why = why;
		out->nr++;
	}
	l->mode = mode;
	l->transitions++;
	l->last_transition = why;
	l->last_transition_epoch = epoch;
	l->good_streak = 0;
	l->hold = 0;
	if (why == MLP_TRANS_PROMOTE)
		l->promotions++;
	else if (why == MLP_TRANS_REGRESSION)
		l->demotions++;
	else if (why == MLP_TRANS_COLLAPSE || why == MLP_TRANS_CLOSED ||
		 why == MLP_TRANS_HEARTBEAT)
		l->emergencies++;
}

/*
 * A safety fall: to EMERGENCY, pinned or not; clears the pin and streaks, and
 * drops the advice windows not judged yet.
 */
void mlp_ladder_fall(struct mlp_ladder *l, u64 epoch, u32 why,
		     struct mlp_ladder_out *out)
{
	l->pinned = false;
	l->good_streak = 0;
	l->hold = 0;
	l->pair_sum = 0;
	l->pair_n = 0;
	if (l->mode != MLP_MODE_EMERGENCY)
		mlp_transition(l, epoch, MLP_MODE_EMERGENCY, why, out);
}

/* MLP_IOC_SET_MODE: the administrator's mode, pinned or not. */
void mlp_ladder_set_mode(struct mlp_ladder *l, u64 epoch, u32 mode, bool pin,
			 struct mlp_ladder_out *out)
{
	l->pinned = pin;
	mlp_transition(l, epoch, mode, MLP_TRANS_ADMIN, out);
}

/*
 * Someone else changed the setting the baseline stands for: the reference
 * restarts and the subsystem goes to EMERGENCY, even from EMERGENCY (the
 * status then names the reason).
 */
void mlp_ladder_new_baseline(struct mlp_ladder *l, u64 epoch,
			     struct mlp_ladder_out *out)
{
	l->have_baseline = false;
	l->baseline_eff = 0;
	l->pinned = false;
	l->pair_sum = 0;
	l->pair_n = 0;
	mlp_transition(l, epoch, MLP_MODE_EMERGENCY, MLP_TRANS_BASELINE, out);
}

/* After parked time: a reference from before the park judges nothing after it. */
void mlp_ladder_resync(struct mlp_ladder *l)
{
	l->have_baseline = false;
	l->pair_sum = 0;
	l->pair_n = 0;
}

/* The controller called (claim, heartbeat, recommendation). */
void mlp_ladder_beat(struct mlp_ladder *l)
{
	l->heartbeat_missed = false;
}

/*
 * Paired judgement of advice: the mean efficiency of the advice windows measured
 * since the baseline window `before`, against that window and the baseline window
 * `after` that just ended. Good only above both, bad only below both, so that a
 * workload change between them (the baseline itself moving) is neither. Both
 * references are > 0 and every efficiency is within [0, MLP_EFF_LIMIT = 10^15],
 * so no product overflows (at most 10^15 * 199, and the sum of at most
 * MLP_PAIR_MAX efficiencies 4096 * 10^15 < 2^63).
 */
static void mlp_evaluate(struct mlp_ladder *l, const u32 *p, u64 epoch,
			 s64 before, s64 after, struct mlp_ladder_out *out)
{
	s64 lo = before < after ? before : after;
	s64 hi = before < after ? after : before;
	s64 a100 = div_s64(l->pair_sum, l->pair_n) * 100;

	if (a100 < lo * p[MLP_P_COLLAPSE_PCT]) {
		l->good_streak = 0;
		mlp_ladder_fall(l, epoch, MLP_TRANS_COLLAPSE, out);
		return;
	}
	if (a100 < lo * (100 - (s64)p[MLP_P_DEMOTE_MARGIN_PCT])) {
		l->good_streak = 0;
		if (!l->pinned && l->mode > MLP_MODE_LEARNING)
			mlp_transition(l, epoch, l->mode - 1,
				       MLP_TRANS_REGRESSION, out);
		return;
	}
	if (a100 >= hi * (100 + (s64)p[MLP_P_PROMOTE_MARGIN_PCT])) {
		l->good_streak++;
		if (!l->pinned && l->good_streak >= p[MLP_P_PROMOTE_WINDOWS] &&
		    l->mode >= MLP_MODE_LEARNING &&
		    l->mode < MLP_MODE_RECOMMENDATION)
			mlp_transition(l, epoch, l->mode + 1, MLP_TRANS_PROMOTE,
				       out);
		return;
	}
	l->good_streak = 0;
}

/* Advice windows waiting for their judgement, at most this many (a bound only). */
#define MLP_PAIR_MAX	4096
/*
 * The baseline windows advice is judged against are at most this many windows
 * from it (idle or unreliable windows may lie between); a reference from further
 * away (before a pause, or another workload) judges nothing.
 */
#define MLP_PAIR_GAP	4

/*
 * The end of window w->epoch (the mode it ran in, whether advice ran, what it
 * measured): the reference update, the heartbeat check, the paired judgement
 * when a measured baseline window closes advice, the climb out of EMERGENCY.
 * Returns the efficiency the window's record reports: the measured one clamped
 * into [0, MLP_EFF_LIMIT], or the reference for an idle window. An idle or
 * unreliable window feeds neither the reference nor the ladder.
 */
s64 mlp_ladder_end_window(struct mlp_ladder *l, const u32 *p,
			  const struct mlp_window_end *w,
			  struct mlp_ladder_out *out)
{
	bool measured = !w->idle && !w->unreliable;
	bool had_before = l->have_baseline;
	s64 before = l->baseline_eff;
	u64 before_epoch = l->base_epoch;
	s64 eff;

	out->nr = 0;
	/* No efficiency is negative; a reference <= 0 is no reference. */
	eff = w->idle ? l->baseline_eff : mlp_clamp(w->eff, 0, MLP_EFF_LIMIT);
	if (measured) {
		l->last_eff = eff;
		if (!w->advice) {
			l->baseline_eff = eff;
			l->base_epoch = w->epoch;
			l->have_baseline = true;
		}
	}

	if (w->controlled && !w->live && !l->heartbeat_missed) {
		l->heartbeat_missed = true;
		l->heartbeat_misses++;
		mlp_ladder_fall(l, w->epoch, MLP_TRANS_HEARTBEAT, out);
	}
	if (measured && w->advice && l->pair_n < MLP_PAIR_MAX) {
		if (!l->pair_n)
			l->pair_first = w->epoch;
		l->pair_last = w->epoch;
		l->pair_sum += eff;
		l->pair_n++;
	} else if (measured && !w->advice) {
		/* A reference <= 0 is none: it judges nothing. */
		if (l->pair_n && had_before && before > 0 && eff > 0 &&
		    l->mode != MLP_MODE_EMERGENCY &&
		    l->pair_first - before_epoch <= MLP_PAIR_GAP &&
		    w->epoch - l->pair_last <= MLP_PAIR_GAP)
			mlp_evaluate(l, p, w->epoch, before, eff, out);
		l->pair_sum = 0;
		l->pair_n = 0;
	}
	if (l->mode != MLP_MODE_EMERGENCY || w->mode != MLP_MODE_EMERGENCY ||
	    l->pinned)
		return eff;
	if (!w->live) {
		l->hold = 0;
		return eff;
	}
	if (++l->hold >= p[MLP_P_EMERGENCY_HOLD_WINDOWS])
		mlp_transition(l, w->epoch, MLP_MODE_LEARNING,
			       MLP_TRANS_RECOVER, out);
	return eff;
}
