// SPDX-License-Identifier: GPL-2.0
/*
 * The synthetic landscape of docs/subsystems.md (see mlproxy_landscape.h):
 * over one knob `level` 0..15, the best level moves with a hidden phase of
 * `period` windows; a load ramp and hashed noise. Integer only.
 */
#include "mlproxy_landscape.h"

/* lowbias32 (Chris Wellons) */
u32 mlp_hash32(u32 x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	x *= 0x846ca68b;
	x ^= x >> 16;
	return x;
}

static const s64 mlp_synth_best[4] = { 10, 6, 13, 4 };

static u32 mlp_synth_phase(const struct mlp_synth *p, u64 w)
{
	return (u32)(div_u64(w, p->period) & 3);
}

/* The best level of window w. */
s64 mlp_synth_opt(const struct mlp_synth *p, u64 w)
{
	return mlp_synth_best[mlp_synth_phase(p, w)];
}

/* The load ramp, 0..1000 permille over 200 windows. */
s64 mlp_synth_load(u64 w)
{
	u32 t;

	div_u64_rem(w, 200, &t);
	return t < 100 ? (s64)t * 10 : (s64)(200 - t) * 10;
}

/* The phase hint feature: the phase in quarters, +-50 permille of noise. */
s64 mlp_synth_hint(const struct mlp_synth *p, u64 w)
{
	return (s64)mlp_synth_phase(p, w) * 250 +
	       (s64)(mlp_hash32((u32)(2 * w) ^ p->seed) % 101) - 50;
}

/* The noise of window w's efficiency, +-20000 (0.02). */
s64 mlp_synth_noise(const struct mlp_synth *p, u64 w)
{
	return (s64)(mlp_hash32((u32)(2 * w + 1) ^ p->seed) % 40001) - 20000;
}

/* eff(w, level) in units of 1/MLP_EFF_SCALE, never negative. */
s64 mlp_synth_eff(const struct mlp_synth *p, u64 w, s64 level)
{
	s64 d = level - mlp_synth_opt(p, w);
	s64 eff = 1000000 - 12000 * d * d - 100 * mlp_synth_load(w) +
		  mlp_synth_noise(p, w);

	return eff > 0 ? eff : 0;
}
