// SPDX-License-Identifier: GPL-2.0
/*
 * Adds a delta to one key of a counter map atomically against concurrent BPF
 * writers (user space cannot: a read-modify-write from a syscall races them),
 * and takes the same delta off the source map in the same run, so a merge
 * interrupted by a crash and run again never counts a delta twice.
 * Run through BPF_PROG_TEST_RUN; dst and src are replaced by the real maps
 * (bpf_map__reuse_fd) and value_words set before load, so the verifier
 * checks every access against the real value size.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

#define BPF_MAP_TYPE_HASH 1
#define BPF_MAP_TYPE_PERCPU_ARRAY 6
#define BPF_NOEXIST 1
#define MAX_KEY 512
#define MAX_WORDS 512 /* values up to 4 KiB */

const volatile __u32 value_words = 1;

struct counters {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct counters dst SEC(".maps");
struct counters src SEC(".maps");

struct args {
	__u8 key[MAX_KEY];
	__u64 delta[MAX_WORDS];
};

/* Helpers take keys and values from map memory, not from the context: copy it here first. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct args);
} scratch SEC(".maps");

SEC("syscall")
int merge_sum(void *in)
{
	__u32 i, zero = 0;
	struct args *ctx = bpf_map_lookup_elem(&scratch, &zero);
	__u64 *v;

	if (!ctx || bpf_probe_read_kernel(ctx, sizeof(*ctx), in))
		return 2;
	v = bpf_map_lookup_elem(&dst, ctx->key);
	if (!v) {
		if (bpf_map_update_elem(&dst, ctx->key, ctx->delta, BPF_NOEXIST) == 0)
			goto drain;
		v = bpf_map_lookup_elem(&dst, ctx->key); /* a program inserted it meanwhile */
		if (!v)
			return 1;
	}
	for (i = 0; i < MAX_WORDS && i < value_words; i++)
		__sync_fetch_and_add(&v[i], ctx->delta[i]);
drain:
	v = bpf_map_lookup_elem(&src, ctx->key);
	if (v)
		for (i = 0; i < MAX_WORDS && i < value_words; i++)
			__sync_fetch_and_sub(&v[i], ctx->delta[i]);
	return 0;
}
