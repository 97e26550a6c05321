/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <linux/ioctl.h> of the WebAssembly build of the rules: the UAPI header's
 * command numbers are never expanded there, so nothing is needed.
 */
#ifndef _MLPROXY_WASM_LINUX_IOCTL_H
#define _MLPROXY_WASM_LINUX_IOCTL_H
#endif /* _MLPROXY_WASM_LINUX_IOCTL_H */
