// SPDX-License-Identifier: GPL-2.0
/*
 * Reads one map's reference counts, where the inventory iterator would walk
 * every map in the kernel to find it (milliseconds at 10,000 maps). target is
 * replaced by the real map (bpf_map__reuse_fd) before load; the verifier lets
 * CAP_PERFMON read struct bpf_map's fields through the map pointer
 * (check_ptr_to_map_access), at offsets CO-RE takes from the kernel's BTF.
 * Run through BPF_PROG_TEST_RUN with one argument, which count to return.
 *
 * This program holds a reference (refcnt, not usercnt) on the map while it is
 * loaded, and the kernel drops it only when it frees the program. A raw
 * tracepoint program, not a syscall one: syscall programs are sleepable, and a
 * sleepable program is freed after an RCU tasks trace grace period (230-320 ms
 * measured on a loaded 2-CPU machine, against 13-20 ms after a normal one), so
 * the migrated map's memory stayed charged to the old memcg that long after
 * the migration was done with it. Non-sleepable, it may also use LPM tries.
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

SEC("raw_tp")
int map_refs(struct map_refs_args *ctx)
{
	struct bpf_map *map = (struct bpf_map *)&target;
	__u64 users = map->usercnt.counter, refs = map->refcnt.counter;

	/* Both stay loads at fixed offsets: a select between two field addresses is pointer arithmetic on
	 * a map pointer, which the verifier refuses. */
	asm volatile("" : "+r"(users), "+r"(refs));
	return ctx->which == MAP_REFS_ALL ? refs : users;
}
