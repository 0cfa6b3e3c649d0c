// SPDX-License-Identifier: GPL-2.0
/*
 * Reads one map's reference counts, where the inventory iterator would walk
 * every map in the kernel to find it (milliseconds at 10,000 maps). target is
 * replaced by the real map (bpf_map__reuse_fd) before load; the verifier lets
 * CAP_PERFMON read struct bpf_map's fields through the map pointer
 * (check_ptr_to_map_access), at offsets CO-RE takes from the kernel's BTF.
 * Run through BPF_PROG_TEST_RUN. This program holds a reference (refcnt, not
 * usercnt) on the map while it is loaded.
 */
#include "kernel.h"
#include "map_refs.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} target SEC(".maps");

SEC("syscall")
int map_refs(struct map_refs *out)
{
	struct bpf_map *map = (struct bpf_map *)&target;

	out->users = map->usercnt.counter;
	out->refs = map->refcnt.counter;
	return 0;
}
