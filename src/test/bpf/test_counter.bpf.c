// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only (built into target/test-classes, not the jar): the workload migrations must not lose counts for. Each run looks
 * up inner map slot 0 of `outer` and increments one of 16 counters in it,
 * creating the key when absent; a run that finds no inner map counts a miss.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct inner {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct inner);
} outer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} misses SEC(".maps");

SEC("tc")
int count(void *skb)
{
	__u32 zero = 0, k = bpf_get_prandom_u32() & 15;
	__u64 one = 1, *v;
	void *in = bpf_map_lookup_elem(&outer, &zero);

	if (!in) {
		v = bpf_map_lookup_elem(&misses, &zero);
		if (v)
			__sync_fetch_and_add(v, 1);
		return 0;
	}
	v = bpf_map_lookup_elem(in, &k);
	if (!v) {
		if (bpf_map_update_elem(in, &k, &one, BPF_NOEXIST) == 0)
			return 0;
		v = bpf_map_lookup_elem(in, &k);
		if (!v)
			return 1;
	}
	__sync_fetch_and_add(v, 1);
	return 0;
}
