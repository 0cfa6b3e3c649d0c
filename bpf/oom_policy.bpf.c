// SPDX-License-Identifier: GPL-2.0
/*
 * An example reader of the map `bpfcharge serve --oom-map` keeps (bpfcharge_oom.h), doing what an OOM
 * policy would: for each candidate memory cgroup, look up its entry by cgroup id and take the bytes a
 * kill would not free off the usage it ranks by, then pick the largest. A struct_ops OOM handler would
 * get its candidates from the kernel; this one gets them in its context through BPF_PROG_TEST_RUN
 * (OomMapIT runs it), which also lets user space see what it read.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include "bpfcharge_oom.h"

char LICENSE[] SEC("license") = "GPL";

BPFCHARGE_OOM_MAP(bpfcharge_oom);

#define OOM_CANDIDATES 8

struct oom_candidate {
	__u64 cgroup_id;                  /* in */
	__u64 usage;                      /* in: what the policy ranks by */
	__u64 adjusted;                   /* out: usage less surviving_kill_bytes */
	struct bpfcharge_oom_value value; /* out: the entry as read; version 0 when the cgroup has none */
};

struct oom_pick {
	__u32 count;  /* in: candidates used */
	__s32 victim; /* out: index of the largest adjusted usage, -1 when none */
	struct oom_candidate candidates[OOM_CANDIDATES];
};

SEC("syscall")
int oom_pick(struct oom_pick *ctx)
{
	__u64 best = 0;
	int victim = -1;
	int i;

	/* Unrolled: every context access has a constant offset, as the verifier wants for a context. */
#pragma unroll
	for (i = 0; i < OOM_CANDIDATES; i++) {
		struct oom_candidate *c = &ctx->candidates[i];
		struct bpfcharge_oom_value *v;
		__u64 keep = 0;

		if (i >= ctx->count)
			break;
		v = bpfcharge_oom_lookup(&bpfcharge_oom, c->cgroup_id);
		if (v && v->version >= 1) {
			keep = v->surviving_kill_bytes;
			c->value = *v;
		}
		c->adjusted = c->usage > keep ? c->usage - keep : 0;
		if (victim < 0 || c->adjusted > best) {
			best = c->adjusted;
			victim = i;
		}
	}
	ctx->victim = victim;
	return 0;
}
