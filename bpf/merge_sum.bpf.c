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
#include "merge_sum.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 value_words = 1;

struct counters {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
};

struct counters dst SEC(".maps");
struct counters src SEC(".maps");

/* Helpers take keys and values from map memory, not from the context: copy it here first. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct merge_args);
} scratch SEC(".maps");

/* Returns the enum itself (not int): that keeps enum merge_result in the object's BTF. */
SEC("syscall")
enum merge_result merge_sum(void *in)
{
	__u32 i, zero = 0;
	struct merge_args *args = bpf_map_lookup_elem(&scratch, &zero);
	__u64 *value;

	if (!args || bpf_probe_read_kernel(args, sizeof(*args), in))
		return MERGE_BAD_ARGS;
	value = bpf_map_lookup_elem(&dst, args->key);
	if (!value) {
		if (bpf_map_update_elem(&dst, args->key, args->delta, BPF_NOEXIST) == 0)
			goto drain;
		value = bpf_map_lookup_elem(&dst, args->key); /* a program inserted it meanwhile */
		if (!value)
			return MERGE_NOT_INSERTED;
	}
	for (i = 0; i < MAX_WORDS && i < value_words; i++)
		__sync_fetch_and_add(&value[i], args->delta[i]);
drain:
	value = bpf_map_lookup_elem(&src, args->key);
	if (value)
		for (i = 0; i < MAX_WORDS && i < value_words; i++)
			__sync_fetch_and_sub(&value[i], args->delta[i]);
	return MERGE_OK;
}
