/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records inventory.bpf.c's iterators write. The Java side (bpf/Structs.java) declares the same
 * layouts, and BtfLayoutTest checks them against the compiled object's BTF, member by member.
 */
#ifndef BPFCHARGE_INVENTORY_H
#define BPFCHARGE_INVENTORY_H

enum map_record_flags {
	MAP_CHARGED = 1, /* the map has a memcg at all (kernel memory accounting on) */
	MAP_ONLINE = 2,  /* that memcg's css is online (its directory exists) */
	MAP_ARENA_PAGES = 4, /* arena_pages was counted (an arena on a kernel with its range tree, 6.13+) */
};

/* map_memcg: one per map in the system. */
struct map_record {
	__u32 map_id;
	enum map_record_flags flags;
	__u64 cgroup_id;        /* kernfs id == directory inode */
	__u64 parent_cgroup_id; /* lets user space name an offline cgroup */
	__u32 map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u32 btf_id;
	__u32 btf_key_type_id;
	__u32 btf_value_type_id;
	__u32 btf_vmlinux_value_type_id;
	__u32 users;            /* user references: fds and pins (an fd being opened too) */
	__u64 map_extra;
	char map_name[16];
	char cgroup_name[64];   /* the cgroup directory's own name */
	__u64 arena_pages;      /* an arena's allocated pages (memlock says 0 for them), with MAP_ARENA_PAGES */
};

_Static_assert(sizeof(struct map_record) == 160, "map_record is read as 160 bytes");

/* map_holders: one per map fd of every process. */
struct holder_record {
	__u32 pid;   /* tgid */
	__u32 map_id;
	char comm[TASK_COMM_LEN]; /* the process's (thread group leader's) name */
};

_Static_assert(sizeof(struct holder_record) == 24, "holder_record is read as 24 bytes");

#endif
