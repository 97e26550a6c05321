/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The synthetic subsystem's reward landscape (docs/subsystems.md) and the
 * integer hash it draws its noise from: used by mlproxy_synthetic.ko and, in
 * the WebAssembly build of the rules, by the simulator and the in-guest tests
 * that check the module's numbers.
 */
#ifndef _MLPROXY_LANDSCAPE_H
#define _MLPROXY_LANDSCAPE_H

#include "mlproxy_rules_types.h"

/* The landscape's parameters: the noise seed and windows per hidden phase. */
struct mlp_synth {
	u32 seed;
	u32 period;			/* >= 1 */
};

u32 mlp_hash32(u32 x);
s64 mlp_synth_opt(const struct mlp_synth *p, u64 w);
s64 mlp_synth_load(u64 w);
s64 mlp_synth_hint(const struct mlp_synth *p, u64 w);
s64 mlp_synth_noise(const struct mlp_synth *p, u64 w);
s64 mlp_synth_eff(const struct mlp_synth *p, u64 w, s64 level);

#endif /* _MLPROXY_LANDSCAPE_H */
