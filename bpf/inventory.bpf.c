// SPDX-License-Identifier: GPL-2.0
/*
 * The two iterators a scan reads (one object: loading parses the kernel's BTF
 * once for both).
 *
 * map_memcg: for every BPF map in the system, its attributes and which memory
 * cgroup it is charged to. bpf_map_info has no memcg field, so this reads it
 * from struct bpf_map; it writes the attributes too, so that a scan needs no
 * fd and no BPF_OBJ_GET_INFO_BY_FD per map. One fixed-size record per map
 * (see MapCharge.java).
 *
 * map_holders: every (process, map) pair where the process has an fd on the
 * map; one read instead of a readlink per fd of every process in /proc.
 */
#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#define CHARGED 1 /* the map has a memcg at all (kernel memory accounting on) */
#define ONLINE  2 /* that memcg's css is online (its directory exists) */

struct record {
	__u32 map_id;
	__u32 flags;
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
	__u32 users;            /* user references: fds and pins */
	__u64 map_extra;
	char map_name[16];
	char cgroup_name[64];   /* the cgroup directory's own name */
};

static struct mem_cgroup *charged_memcg(struct bpf_map *map)
{
	if (bpf_core_field_exists(map->objcg)) {
		struct obj_cgroup *objcg = BPF_CORE_READ(map, objcg);

		return objcg ? BPF_CORE_READ(objcg, memcg) : 0;
	}
	return BPF_CORE_READ((struct bpf_map___pre60 *)map, memcg);
}

static struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___pre615 *)kn, parent);
}

static void read_attributes(struct bpf_map *map, struct record *rec)
{
	struct btf *btf = BPF_CORE_READ(map, btf);

	rec->map_type = BPF_CORE_READ(map, map_type);
	rec->key_size = BPF_CORE_READ(map, key_size);
	rec->value_size = BPF_CORE_READ(map, value_size);
	rec->max_entries = BPF_CORE_READ(map, max_entries);
	rec->map_flags = BPF_CORE_READ(map, map_flags);
	rec->btf_id = btf ? BPF_CORE_READ(btf, id) : 0;
	rec->btf_key_type_id = BPF_CORE_READ(map, btf_key_type_id);
	rec->btf_value_type_id = BPF_CORE_READ(map, btf_value_type_id);
	rec->btf_vmlinux_value_type_id = BPF_CORE_READ(map, btf_vmlinux_value_type_id);
	if (bpf_core_field_exists(map->map_extra))
		rec->map_extra = BPF_CORE_READ(map, map_extra);
	bpf_core_read(rec->map_name, sizeof(rec->map_name), &map->name);
}

SEC("iter/bpf_map")
int map_memcg(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	struct record rec = {};
	struct mem_cgroup *memcg;

	if (!map)
		return 0;
	rec.map_id = BPF_CORE_READ(map, id);
	rec.users = BPF_CORE_READ(map, usercnt.counter);
	read_attributes(map, &rec);
	memcg = charged_memcg(map);
	if (memcg) {
		struct kernfs_node *kn = BPF_CORE_READ(memcg, css.cgroup, kn);
		struct kernfs_node *parent = kn_parent(kn);

		rec.flags = CHARGED;
		if (BPF_CORE_READ(memcg, css.flags) & CSS_ONLINE)
			rec.flags |= ONLINE;
		rec.cgroup_id = BPF_CORE_READ(kn, id);
		rec.parent_cgroup_id = parent ? BPF_CORE_READ(parent, id) : 0;
		bpf_probe_read_kernel_str(rec.cgroup_name, sizeof(rec.cgroup_name), BPF_CORE_READ(kn, name));
	}
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/* "bpf-map\0", the name bpf_map_new_fd gives every map fd's anon inode, as one little-endian word. */
#define BPF_MAP_ANON_NAME 0x0070616d2d667062ULL

struct holder {
	__u32 pid;
	__u32 map_id;
};

SEC("iter/task_file")
int map_holders(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct bpf_map *map;
	struct holder h;
	__u64 name = 0;

	if (!file || !task)
		return 0;
	/* Short names live inline in the dentry (32+ bytes), so reading 8 never leaves it. */
	bpf_probe_read_kernel(&name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	if (name != BPF_MAP_ANON_NAME)
		return 0;
	map = BPF_CORE_READ(file, private_data);
	h.pid = BPF_CORE_READ(task, tgid);
	h.map_id = BPF_CORE_READ(map, id);
	bpf_seq_write(ctx->meta->seq, &h, sizeof(h));
	return 0;
}
