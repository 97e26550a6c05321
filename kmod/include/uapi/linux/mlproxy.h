/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mlproxy: the user-space ABI of the in-kernel ML proxy (/dev/mlproxy).
 *
 * This header is the single source of truth for the ABI. The TypeScript codec in
 * src/abi/ is checked against it by a test that compiles this file with gcc.
 *
 * Rules of the ABI:
 *  - Every struct is fixed size, built of __u32/__s64/__u64 and char arrays, padded
 *    explicitly to a multiple of 8 bytes, with no pointers.
 *  - Structs grow only at their end (the practice of openat2, clone3 and
 *    sched_setattr). The kernel dispatches on _IOC_NR; _IOC_SIZE of the command is
 *    the caller's size of the struct, and the struct's leading __u32 size must equal
 *    it (else -EINVAL). A caller's struct smaller than the ABI 1.0 size
 *    (MLP_SIZEOF_*_VER0) is -EINVAL; a smaller one of a later version is read as if
 *    its missing tail were zero; a larger one is accepted when every byte past the
 *    kernel's struct is zero (else -E2BIG). Output is min(caller's, kernel's) bytes,
 *    with size set to the bytes filled. Reserved fields must be zero.
 *  - No floating point: efficiencies are __s64 in units of 1/MLP_EFF_SCALE, and
 *    propensities are __u32 in units of 1/MLP_PROB_SCALE.
 *
 * Semantics (docs/abi.md gives the long form):
 *
 * Windows and epochs. Each subsystem runs in windows of window_ms, driven by kernel
 * work; user space never holds a window up. Windows are planned from the planned
 * start of the window before, so they do not drift (one may begin up to a clock
 * tick early or late; one that begins a whole window late restarts the plan). The
 * epoch is the sequence number of the window in progress. A subsystem starts at
 * epoch 0 in EMERGENCY with no controller. Subsystem ids are stable (never reused
 * while loaded) and start at 1; rec_ids count 1, 2, ... per subsystem, one for
 * every verdict. At the end of window e the kernel measures its efficiency, runs
 * the mode ladder, and plans window e + 1: advice when the mode schedules an
 * advice window at e + 1 and a valid recommendation is pending, otherwise the
 * baseline (every knob at its default); then it queues the feedback record of e.
 * While no file of the device is open, windows are parked: the defaults are in
 * force and no window runs; the window in progress at the last close is abandoned
 * (no record), and the first open starts window e + 1.

 * Advice schedule of window w, by mode:
 *   EMERGENCY       never;
 *   LEARNING        w % learning_period == 0 (module parameter, default 10);
 *   COLLABORATION   w % 2 == 0;
 *   RECOMMENDATION  every window but the check windows, w % check_period == 0
 *                   (module parameter, default 16; 0: no check windows).
 * The baseline windows are the comparison the ladder judges advice against.
 *
 * Recommendations. One recommendation targets the window after the one in progress
 * (target_epoch = current epoch + 1). Its epoch must be the current epoch or at most
 * max_epoch_lag (default 1) behind it, else REJECTED/STALE; an epoch in the future is
 * -EINVAL. At most one recommendation is accepted per target window, else
 * REJECTED/RATE_LIMIT. Each knob is clamped into [min, max], rounded down to the
 * step grid, and limited to max_delta away from the last advised value of that
 * knob (the value of the last advice that ran; the default before any); each such
 * change sets a reason bit and the verdict CLAMPED, or REJECTED when
 * MLP_REC_F_STRICT is set. The first failing check alone decides a rejection:
 * STALE, then RATE_LIMIT, then the knobs' bits; applied[] holds the knobs after
 * clamping (as given when STALE or RATE_LIMIT). A recommendation
 * whose target window runs the baseline (emergency, or a baseline or check window)
 * is SHADOWED. A recommendation not yet applied when
 * its ttl_ms has passed is dropped at the window boundary with reason EXPIRED.
 *
 * Feedback. For every window the kernel queues one struct mlp_feedback to every
 * open file of the device that subscribes to the subsystem (all of them unless the
 * file chose with MLP_IOC_FILE; a bounded ring per file; when full the newest
 * record is dropped and counted). The record also carries the state of the window
 * that starts as the measured one ends (ABI 1.1), so an advisor decides from the
 * record alone: read() then MLP_IOC_RECOMMEND. read() returns whole records only,
 * of the file's record size (MLP_SIZEOF_FEEDBACK_VER0 unless the file asked for
 * more); poll() reports POLLIN while records are queued. A blocking read() waits
 * at most the file's read timeout, then returns 0. When a subsystem is
 * unregistered, files that said MLP_ABI_MINOR >= 1 in MLP_IOC_VERSION get a last
 * record for it with reason MLP_REASON_GONE. Efficiencies are within
 * [0, 10^15]. baseline_eff is the kernel's baseline reference: the efficiency of
 * the last measured baseline window (0 before the first; while it is 0 there is
 * no reference); eff is the window's own.
 * A subsystem may find a window idle (nothing to measure, e.g. no reads): its
 * record has reason MLP_REASON_IDLE and eff = baseline_eff, and it feeds neither
 * the reference nor the ladder. A window the subsystem could measure only in part
 * (e.g. a probe missed calls) has reason MLP_REASON_UNRELIABLE: its eff is reported
 * but feeds neither the reference nor the ladder either. Mode changes take effect at
 * the next window.
 *
 * Mode ladder: paired judgement. The measured advice windows between two measured
 * baseline windows (before, after) are judged together when the after window ends,
 * with a = their mean efficiency, lo = min(before, after), hi = max(before, after):
 *   good        a * 100 >= hi * (100 + promote_margin_pct)
 *   regression  a * 100 <  lo * (100 - demote_margin_pct)
 *   collapse    a * 100 <  lo * collapse_pct
 * So advice must beat the baseline on both sides of it to count as good, and fall
 * below both to count as bad: a change of the workload between the two (the
 * baseline itself moving) is neither. Idle and unreliable windows are skipped; the
 * two baseline windows must be at most 4 windows from the advice (else nothing is
 * judged); a fall to EMERGENCY or a change of the baseline setting drops the advice
 * windows not yet judged. promote_windows consecutive good judgements promote one step (LEARNING ->
 * COLLABORATION -> RECOMMENDATION). A regression demotes one step at once
 * (RECOMMENDATION -> COLLABORATION -> LEARNING) and resets the streak. A collapse
 * falls to EMERGENCY. So does closing the controlling file, and a controller whose
 * last heartbeat is older than heartbeat_ms (checked first at a window's end;
 * advice is judged only when the mode is not EMERGENCY then). So does a change of
 * the baseline setting by someone else (a subsystem that reports one, e.g. an
 * administrator's new read_ahead_kb: MLP_TRANS_BASELINE; the knob's def becomes the
 * new baseline and the reference restarts). EMERGENCY
 * climbs back to LEARNING after emergency_hold_windows windows with a live
 * controller. MLP_IOC_SET_MODE sets the mode (CAP_SYS_ADMIN, any file; each call
 * counts as an ADMIN transition); with MLP_MODE_F_PIN the ladder no longer promotes
 * or demotes it, but the safety falls to EMERGENCY still happen and clear the pin.
 * last_transition_epoch is the window in progress (or just ended) at a transition.
 *
 * Control. MLP_IOC_RECOMMEND, MLP_IOC_SET_MODE, MLP_IOC_CLAIM and MLP_IOC_HEARTBEAT
 * need CAP_SYS_ADMIN (-EPERM) and a file opened for writing (-EBADF). One open
 * file at a time controls a subsystem:
 * MLP_IOC_CLAIM (or the first MLP_IOC_RECOMMEND) makes the caller's file its
 * controller; another file gets -EBUSY. The controller's CLAIM, HEARTBEAT and
 * RECOMMEND calls refresh its heartbeat; HEARTBEAT without a controller is -EINVAL.
 * MLP_CLAIM_F_RELEASE hands control over without a fall (the mode stays). Everyone
 * who can open the device may read (the node is 0600 unless udev says otherwise).
 *
 * Enumeration. Subsystems are listed by index (registration order); the registry
 * generation (MLP_IOC_VERSION, MLP_IOC_SUBSYS_INFO) moves at every registration
 * and unregistration, so a listing whose answers disagree on it raced with one
 * and is taken again. MLP_INFO_F_BY_ID looks a subsystem up by its id instead.
 */
#ifndef _UAPI_LINUX_MLPROXY_H
#define _UAPI_LINUX_MLPROXY_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define MLP_ABI_MAJOR		1
#define MLP_ABI_MINOR		1

/* Struct sizes of ABI 1.0: the smallest the kernel accepts (see the rules above). */
#define MLP_SIZEOF_VERSION_VER0		64
#define MLP_SIZEOF_SUBSYS_INFO_VER0	1656
#define MLP_SIZEOF_STATE_VER0		240
#define MLP_SIZEOF_RECOMMENDATION_VER0	192
#define MLP_SIZEOF_MODE_VER0		16
#define MLP_SIZEOF_CLAIM_VER0		16
#define MLP_SIZEOF_STATUS_VER0		224
#define MLP_SIZEOF_FEEDBACK_VER0	136
/* Added in ABI 1.1. */
#define MLP_SIZEOF_FILE_CONFIG_VER0	96

#define MLP_DEVICE_NAME		"mlproxy"
#define MLP_NAME_LEN		32
#define MLP_UNIT_LEN		16
#define MLP_MAX_SUBSYS		16
#define MLP_MAX_FEATURES	16
#define MLP_MAX_KNOBS		8

/* Fixed-point scales: value = raw / scale. */
#define MLP_EFF_SCALE		1000000		/* efficiency, __s64 */
#define MLP_PROB_SCALE		1000000000U	/* propensity, __u32 */

/* Modes, the RFC's ladder, lowest first. */
#define MLP_MODE_EMERGENCY	0	/* baseline only */
#define MLP_MODE_LEARNING	1	/* advice in 1 of learning_period windows */
#define MLP_MODE_COLLABORATION	2	/* advice in even windows */
#define MLP_MODE_RECOMMENDATION	3	/* advice in every window */
#define MLP_NR_MODES		4

/* struct mlp_mode.flags */
#define MLP_MODE_F_PIN		(1U << 0)	/* set: ladder off until a safety fall */

/* Verdicts of a recommendation. */
#define MLP_VERDICT_NONE	0	/* feedback only: no recommendation pending */
#define MLP_VERDICT_APPLIED	1
#define MLP_VERDICT_CLAMPED	2
#define MLP_VERDICT_REJECTED	3
#define MLP_VERDICT_SHADOWED	4

/* Reason bits of a verdict. */
#define MLP_REASON_OUT_OF_BOUNDS	(1U << 0)	/* a knob outside [min, max] */
#define MLP_REASON_OFF_GRID		(1U << 1)	/* a knob not on the step grid */
#define MLP_REASON_STEP_LIMIT		(1U << 2)	/* a knob moved more than max_delta */
#define MLP_REASON_STALE		(1U << 3)	/* epoch too old */
#define MLP_REASON_RATE_LIMIT		(1U << 4)	/* target window already has advice */
#define MLP_REASON_EXPIRED		(1U << 5)	/* ttl passed before it could run */
#define MLP_REASON_EMERGENCY		(1U << 6)	/* mode is EMERGENCY */
#define MLP_REASON_BASELINE_WINDOW	(1U << 7)	/* target window runs the baseline */
#define MLP_REASON_IDLE			(1U << 8)	/* feedback only: idle window, see below */
#define MLP_REASON_GONE			(1U << 9)	/* feedback only: subsystem unregistered */
#define MLP_REASON_UNRELIABLE		(1U << 10)	/* feedback only: measurement not trusted */

/* struct mlp_recommendation.flags */
#define MLP_REC_F_STRICT	(1U << 0)	/* reject instead of clamping */

/* struct mlp_claim.flags */
#define MLP_CLAIM_F_RELEASE	(1U << 0)	/* give up control; the mode stays */

/* struct mlp_subsys_info.flags */
#define MLP_INFO_F_BY_ID	(1U << 0)	/* look up id, not index */

/* struct mlp_file_config.flags: what to change (the others are kept). */
#define MLP_FILE_SET_RECORD_SIZE	(1U << 0)
#define MLP_FILE_SET_READ_TIMEOUT	(1U << 1)
#define MLP_FILE_SET_SUBSCRIBE		(1U << 2)
#define MLP_FILE_WAKE			(1U << 3)	/* blocked readers return now */
#define MLP_READ_TIMEOUT_NONE		0xffffffffU	/* read() may wait forever */
#define MLP_READ_TIMEOUT_MAX_MS		3600000U

/* Why the mode last changed (struct mlp_status.last_transition). */
#define MLP_TRANS_NONE		0
#define MLP_TRANS_PROMOTE	1	/* promote_windows good windows */
#define MLP_TRANS_REGRESSION	2	/* advice fell below the baseline margin */
#define MLP_TRANS_COLLAPSE	3	/* efficiency collapsed */
#define MLP_TRANS_CLOSED	4	/* controlling file closed */
#define MLP_TRANS_HEARTBEAT	5	/* controller missed heartbeats */
#define MLP_TRANS_RECOVER	6	/* EMERGENCY -> LEARNING after the hold */
#define MLP_TRANS_ADMIN		7	/* MLP_IOC_SET_MODE */
#define MLP_TRANS_BASELINE	8	/* the administrator changed the baseline setting */

/* struct mlp_status.flags */
#define MLP_STATUS_F_PINNED		(1U << 0)
#define MLP_STATUS_F_CONTROLLED		(1U << 1)
#define MLP_STATUS_F_HEARTBEAT_OK	(1U << 2)
#define MLP_STATUS_F_MINE		(1U << 3)	/* caller's file is the controller */

/* Version handshake. */
struct mlp_version {
	__u32 size;
	__u32 abi_major;		/* in: caller's; out: kernel's */
	__u32 abi_minor;		/* in: caller's; out: kernel's */
	__u32 compatible;		/* out: 1 when the majors match */
	__u32 nr_subsys;		/* out: subsystems registered now */
	__u32 max_subsys;
	__u32 max_features;
	__u32 max_knobs;
	__u32 ring_records;		/* feedback ring capacity per open file */
	__u32 sizeof_subsys_info;
	__u32 sizeof_state;
	__u32 sizeof_recommendation;
	__u32 sizeof_mode;
	__u32 sizeof_status;
	__u32 sizeof_feedback;
	__u32 sizeof_claim;
	/* ABI 1.1 */
	__u32 sizeof_version;
	__u32 sizeof_file_config;
	__u64 generation;		/* out: +1 at every (un)registration */
	__u32 file_minor;		/* out: the minor this file speaks from now on */
	__u32 __reserved;
};

/* One feature of a subsystem's state: value = raw / scale, in unit. */
struct mlp_feature_desc {
	char name[MLP_NAME_LEN];
	char unit[MLP_UNIT_LEN];
	__u32 scale;
	__u32 __reserved;
};

/* One knob of a subsystem's action: the legal values are min, min + step, ..., max. */
struct mlp_knob_desc {
	char name[MLP_NAME_LEN];
	char unit[MLP_UNIT_LEN];
	__s64 min;
	__s64 max;
	__s64 step;
	__s64 def;			/* the human-written baseline */
	__s64 max_delta;		/* largest change per advice window; 0: none */
};

/* MLP_IOC_SUBSYS_INFO: the subsystem at position index (0 .. nr_subsys - 1). */
struct mlp_subsys_info {
	__u32 size;
	__u32 index;			/* in */
	__u32 id;			/* out: stable id used by every other ioctl */
	__u32 nr_features;
	__u32 nr_knobs;
	__u32 window_ms;
	char name[MLP_NAME_LEN];
	struct mlp_feature_desc features[MLP_MAX_FEATURES];
	struct mlp_knob_desc knobs[MLP_MAX_KNOBS];
	/* ABI 1.1 */
	__u64 generation;		/* out: the registry generation of the answer */
	__u32 flags;			/* in: MLP_INFO_F_* */
	__u32 __reserved;
};

/* MLP_IOC_GET_STATE: a snapshot of one subsystem. */
struct mlp_state {
	__u32 size;
	__u32 subsys_id;		/* in */
	__u64 epoch;			/* window in progress */
	__u64 time_ns;			/* ktime_get_ns() of the snapshot */
	__u32 mode;
	__u32 next_advice;		/* 1: window epoch + 1 is an advice window */
	__u32 nr_features;
	__u32 nr_knobs;
	__s64 features[MLP_MAX_FEATURES];
	__s64 knobs[MLP_MAX_KNOBS];	/* values in force now */
	__s64 baseline_eff;		/* baseline reference; 0 before the first */
	/* ABI 1.1 */
	__u64 window_start_ns;		/* when window epoch began */
	__u64 next_window_ns;		/* when it is planned to end */
};

/* MLP_IOC_RECOMMEND: advice for the next window. */
struct mlp_recommendation {
	__u32 size;
	__u32 subsys_id;		/* in */
	__u64 epoch;			/* in: epoch of the state it was based on */
	__u64 model_version;		/* in: opaque, echoed in logs */
	__u32 propensity;		/* in: 1 / MLP_PROB_SCALE units, 1 .. MLP_PROB_SCALE */
	__u32 nr_knobs;			/* in: must equal the subsystem's */
	__u32 ttl_ms;			/* in: 0 = module default; <= 60000 */
	__u32 flags;			/* in: MLP_REC_F_* */
	__s64 knobs[MLP_MAX_KNOBS];	/* in */
	__u64 rec_id;			/* out: nonzero for every verdict */
	__u64 target_epoch;		/* out */
	__u32 verdict;			/* out: MLP_VERDICT_* */
	__u32 reasons;			/* out: MLP_REASON_* bits */
	__s64 applied[MLP_MAX_KNOBS];	/* out: knobs after clamping */
};

/* MLP_IOC_GET_MODE / MLP_IOC_SET_MODE */
struct mlp_mode {
	__u32 size;
	__u32 subsys_id;
	__u32 mode;			/* MLP_MODE_* */
	__u32 flags;			/* MLP_MODE_F_* */
};

/* MLP_IOC_CLAIM / MLP_IOC_HEARTBEAT */
struct mlp_claim {
	__u32 size;
	__u32 subsys_id;
	__u32 flags;			/* MLP_CLAIM_F_* (CLAIM only) */
	__u32 __reserved;
};

/* MLP_IOC_GET_STATUS: counters and status of one subsystem. */
struct mlp_status {
	__u32 size;
	__u32 subsys_id;		/* in */
	__u32 mode;
	__u32 flags;			/* MLP_STATUS_F_* */
	__u64 epoch;
	__u64 windows;
	__u64 advice_windows;
	__u64 baseline_windows;
	__u64 mode_windows[MLP_NR_MODES];	/* windows spent in each mode */
	__u64 recs;			/* recommendations received */
	__u64 recs_applied;
	__u64 recs_clamped;
	__u64 recs_rejected;
	__u64 recs_shadowed;
	__u64 recs_expired;
	__u64 feedback_records;
	__u64 feedback_dropped;
	__u64 transitions;
	__u64 promotions;
	__u64 demotions;
	__u64 emergencies;
	__u64 heartbeat_misses;
	__u64 last_transition_epoch;
	__u32 last_transition;		/* MLP_TRANS_* */
	__u32 good_streak;
	__s64 baseline_eff;
	__s64 last_eff;
	__s32 controller_pid;		/* tgid in the caller's pid namespace; 0: none */
	__u32 __reserved;
	/* ABI 1.1 */
	__u64 work_ns;			/* time spent in the window work */
	__u64 work_max_ns;		/* its longest run */
	__u64 late_max_ns;		/* the latest a window began behind its plan */
	__u64 replans;			/* plans reset: a window began a whole window late */
};

/* One record read() from the device: the outcome of one window. */
struct mlp_feedback {
	__u32 size;			/* sizeof(struct mlp_feedback) */
	__u32 subsys_id;
	__u64 rec_id;			/* 0: no recommendation targeted the window */
	__u64 epoch;			/* the window measured */
	__u64 window_start_ns;
	__u64 window_ns;		/* its length */
	__u32 mode;			/* mode during the window */
	__u32 applied;			/* 1: advice ran in the window */
	__u32 verdict;			/* final fate of rec_id (MLP_VERDICT_*) */
	__u32 reasons;			/* MLP_REASON_* bits */
	__s64 baseline_eff;		/* baseline reference at the window's end */
	__s64 eff;			/* the window's own efficiency */
	__s64 knobs[MLP_MAX_KNOBS];	/* values in force during the window */
	/* ABI 1.1: the state of window epoch + 1, which began as this one ended */
	__u32 next_mode;
	__u32 next_advice;		/* 1: window epoch + 2 is an advice window */
	__u32 nr_features;
	__u32 nr_knobs;
	__u64 next_end_ns;		/* when window epoch + 1 is planned to end */
	__s64 next_features[MLP_MAX_FEATURES];
	__s64 next_knobs[MLP_MAX_KNOBS];	/* values in force in window epoch + 1 */
};

/* MLP_IOC_FILE (ABI 1.1): this open file's reading options; any opener may. */
struct mlp_file_config {
	__u32 size;
	__u32 flags;			/* in: MLP_FILE_SET_*, MLP_FILE_WAKE */
	__u32 record_size;		/* in/out: bytes per record from read() */
	__u32 read_timeout_ms;		/* in/out: longest wait of a blocking read() */
	__u32 queued;			/* out: records queued now */
	__u32 nr_subscribed;		/* in/out: ids in subscribed[]; 0: every subsystem */
	__u32 subscribed[MLP_MAX_SUBSYS];	/* in/out: the subsystems to get records of */
	__u64 dropped;			/* out: records this file lost to a full ring */
};

#define MLP_IOC_MAGIC		0xE3

#define MLP_IOC_VERSION		_IOWR(MLP_IOC_MAGIC, 0x00, struct mlp_version)
#define MLP_IOC_SUBSYS_INFO	_IOWR(MLP_IOC_MAGIC, 0x01, struct mlp_subsys_info)
#define MLP_IOC_GET_STATE	_IOWR(MLP_IOC_MAGIC, 0x02, struct mlp_state)
#define MLP_IOC_RECOMMEND	_IOWR(MLP_IOC_MAGIC, 0x03, struct mlp_recommendation)
#define MLP_IOC_GET_MODE	_IOWR(MLP_IOC_MAGIC, 0x04, struct mlp_mode)
#define MLP_IOC_SET_MODE	_IOW(MLP_IOC_MAGIC, 0x05, struct mlp_mode)
#define MLP_IOC_GET_STATUS	_IOWR(MLP_IOC_MAGIC, 0x06, struct mlp_status)
#define MLP_IOC_CLAIM		_IOW(MLP_IOC_MAGIC, 0x07, struct mlp_claim)
#define MLP_IOC_HEARTBEAT	_IOW(MLP_IOC_MAGIC, 0x08, struct mlp_claim)
#define MLP_IOC_FILE		_IOWR(MLP_IOC_MAGIC, 0x09, struct mlp_file_config)

#endif /* _UAPI_LINUX_MLPROXY_H */
