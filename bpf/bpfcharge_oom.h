/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The map `bpfcharge serve --oom-map PIN` keeps pinned for BPF OOM policies: per memory cgroup, its
 * BPF map bytes and how many of them a kill of its tasks would leave behind. A stable interface:
 * fields are only ever appended to struct bpfcharge_oom_value (value_size tells a reader how much
 * there is), and `version` goes up when they are.
 *
 * Layout: PIN is an array_of_maps with one slot; slot 0 holds a hash map keyed by cgroup id (__u64:
 * the kernfs id, which bpf_get_current_cgroup_id(), cgroup->kn->id and the cgroup directory's inode
 * number all give) with one struct bpfcharge_oom_value per memory cgroup holding BPF charges. After
 * every scan bpfcharge fills a new hash map and swaps it into the slot: a reader sees one scan,
 * whole, never a half-written value, and a cgroup that holds no charge any more has no entry.
 *
 * Include after <bpf/bpf_helpers.h> and a definition of __u32/__u64 (vmlinux.h or linux/types.h);
 * declare the map with BPFCHARGE_OOM_MAP(name) and load with the pin reused (libbpf:
 * bpf_map__reuse_fd, or __uint(pinning, LIBBPF_PIN_BY_NAME) with the pin's directory as pin_root_path
 * and the pin named like the map). bpf/oom_policy.bpf.c is an example reader.
 */
#ifndef BPFCHARGE_OOM_H
#define BPFCHARGE_OOM_H

#define BPFCHARGE_OOM_VERSION 1

struct bpfcharge_oom_value {
	__u32 version;              /* BPFCHARGE_OOM_VERSION of the writer */
	__u32 reserved;             /* 0 */
	__u64 bpf_bytes;            /* BPF map memory charged to the cgroup */
	__u64 surviving_kill_bytes; /* of which killing every task in its subtree would not free (pinned, held elsewhere) */
	__u64 stranded_bytes;       /* of which is charged while the cgroup has no task, or is removed */
};

/*
 * The inner map's attributes: BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, its max_entries following the
 * cgroups. Sizes rather than types: bpfcharge writes the map without BTF, and clang would emit a value
 * type met only through the outer map's definition as a forward declaration libbpf cannot size.
 */
struct bpfcharge_oom_cgroups {
	__uint(type, 1);
	__uint(map_flags, 1);
	__uint(max_entries, 1);
	__uint(key_size, sizeof(__u64));
	__uint(value_size, sizeof(struct bpfcharge_oom_value));
};

/* The pinned map: BPF_MAP_TYPE_ARRAY_OF_MAPS, one slot. */
#define BPFCHARGE_OOM_MAP(name)                                 \
	struct {                                                \
		__uint(type, 12);                               \
		__uint(max_entries, 1);                         \
		__type(key, __u32);                             \
		__array(values, struct bpfcharge_oom_cgroups);  \
	} name SEC(".maps")

/* The values of one cgroup in the current scan, or NULL when it holds no BPF charge (or no scan is published). */
static __always_inline struct bpfcharge_oom_value *bpfcharge_oom_lookup(void *oom_map, __u64 cgroup_id)
{
	__u32 slot = 0;
	void *cgroups = bpf_map_lookup_elem(oom_map, &slot);

	return cgroups ? bpf_map_lookup_elem(cgroups, &cgroup_id) : (void *)0;
}

#endif
