/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/types.h> of the WebAssembly build of the rules (scripts/build-wasm.sh):
 * the kernel's integer names over the compiler's own types.
 */
#ifndef _MLPROXY_WASM_LINUX_TYPES_H
#define _MLPROXY_WASM_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>

typedef __UINT8_TYPE__ __u8;
typedef __UINT16_TYPE__ __u16;
typedef __UINT32_TYPE__ __u32;
typedef __UINT64_TYPE__ __u64;
typedef __INT8_TYPE__ __s8;
typedef __INT16_TYPE__ __s16;
typedef __INT32_TYPE__ __s32;
typedef __INT64_TYPE__ __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;

#endif /* _MLPROXY_WASM_LINUX_TYPES_H */
