// SPDX-License-Identifier: GPL-2.0
/*
 * mlproxy-readahead-check: takes control of the readahead subsystem, pins
 * RECOMMENDATION and steps the read-ahead 7, 9, 11, 12, 12, 10, 8, 6, 4, 4, 6, 8
 * (log2 KiB; four windows each, within max_delta 2), printing every state
 * snapshot, verdict and feedback record. Run as root with a read workload on
 * the device (kmod/tools/readahead-run.sh does both); docs/readahead.md shows
 * what it measured in the QEMU guest.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/mlproxy.h>
int main(void)
{
	struct mlp_version v = { .size = sizeof(v), .abi_major = 1 };
	struct mlp_subsys_info info = { .size = sizeof(info) };
	struct mlp_state st = { .size = sizeof(st) };
	struct mlp_mode m = { .size = sizeof(m), .mode = MLP_MODE_RECOMMENDATION };
	struct mlp_recommendation r;
	struct mlp_feedback fb;
	struct mlp_status status = { .size = sizeof(status) };
	unsigned i, id = 0, w;
	int fd = open("/dev/mlproxy", O_RDWR);
	long long plan[] = {7, 9, 11, 12, 12, 10, 8, 6, 4, 4, 6, 8};
	ioctl(fd, MLP_IOC_VERSION, &v);
	for (i = 0; i < v.nr_subsys; i++) {
		info.index = i;
		ioctl(fd, MLP_IOC_SUBSYS_INFO, &info);
		if (!strcmp(info.name, "readahead")) id = info.id;
	}
	if (!id) { printf("no readahead\n"); return 1; }
	printf("readahead id %u window %u knob %s def %lld; features:", id, info.window_ms, info.knobs[0].name, (long long)info.knobs[0].def);
	for (i = 0; i < info.nr_features; i++) printf(" %s[%s/%u]", info.features[i].name, info.features[i].unit, info.features[i].scale);
	printf("\n");
	m.subsys_id = id;
	if (ioctl(fd, MLP_IOC_SET_MODE, &m)) perror("set mode");
	for (w = 0; w < 48; w++) {
		while (read(fd, &fb, sizeof(fb)) == sizeof(fb)) {
			if (fb.subsys_id != id) continue;
			printf("fb epoch %llu applied %u ra %lld eff %lld base %lld reasons %#x\n", (unsigned long long)fb.epoch, fb.applied, (long long)fb.knobs[0], (long long)fb.eff, (long long)fb.baseline_eff, fb.reasons);
			break;
		}
		st.subsys_id = id;
		ioctl(fd, MLP_IOC_GET_STATE, &st);
		printf("state epoch %llu mode %u ra_now %lld feats", (unsigned long long)st.epoch, st.mode, (long long)st.knobs[0]);
		for (i = 0; i < st.nr_features; i++) printf(" %lld", (long long)st.features[i]);
		printf("\n");
		memset(&r, 0, sizeof(r));
		r.size = sizeof(r); r.subsys_id = id; r.epoch = st.epoch; r.propensity = 1; r.nr_knobs = 1;
		r.knobs[0] = plan[(w / 4) % 12];
		if (ioctl(fd, MLP_IOC_RECOMMEND, &r)) perror("recommend");
		printf("rec %llu verdict %u reasons %#x applied %lld\n", (unsigned long long)r.rec_id, r.verdict, r.reasons, (long long)r.applied[0]);
	}
	status.subsys_id = id;
	ioctl(fd, MLP_IOC_GET_STATUS, &status);
	printf("status mode %u windows %llu advice %llu recs %llu applied %llu transitions %llu last %u\n", status.mode, (unsigned long long)status.windows, (unsigned long long)status.advice_windows, (unsigned long long)status.recs, (unsigned long long)status.recs_applied, (unsigned long long)status.transitions, status.last_transition);
	return 0;
}
