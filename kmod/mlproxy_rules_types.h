/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The types and helpers the rules (mlproxy_rules.c, mlproxy_landscape.c) use:
 * the kernel's in the module, the same names over the compiler's freestanding
 * headers in the WebAssembly build the simulator runs (scripts/build-wasm.sh,
 * which finds <linux/types.h> and <linux/ioctl.h> in kmod/wasm/include/). No
 * floating point, no allocation, no other kernel header.
 */
#ifndef _MLPROXY_RULES_TYPES_H
#define _MLPROXY_RULES_TYPES_H

#ifdef __KERNEL__
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/types.h>
#else
#include <linux/types.h>

#define S64_MAX		__INT64_MAX__
#define S64_MIN		(-S64_MAX - 1)
#define check_add_overflow(a, b, d)	__builtin_add_overflow(a, b, d)
#define check_sub_overflow(a, b, d)	__builtin_sub_overflow(a, b, d)

static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}

static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

static inline u64 div64_u64_rem(u64 dividend, u64 divisor, u64 *remainder)
{
	*remainder = dividend % divisor;
	return dividend / divisor;
}

static inline s64 div_s64(s64 dividend, s32 divisor)
{
	return dividend / divisor;
}
#endif

#endif /* _MLPROXY_RULES_TYPES_H */
