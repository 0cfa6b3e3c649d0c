// SPDX-License-Identifier: GPL-2.0
/*
 * The two iterators a scan reads (one object: loading parses the kernel's BTF
 * once for both).
 *
 * map_memcg: for every BPF map in the system, its attributes and which memory
 * cgroup it is charged to. bpf_map_info has no memcg field, so this reads it
 * from struct bpf_map; it writes the attributes too, so that a scan needs no
 * fd and no BPF_OBJ_GET_INFO_BY_FD per map. One struct map_record per map.
 *
 * map_holders: every (process, map) pair where the process has an fd on the
 * map, with the process's name; one read instead of a readlink per fd of
 * every process in /proc. One struct holder_record per map fd.
 */
#include "kernel.h"
#include "inventory.h"
#include "files.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

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

/*
 * An arena's pages are charged to its memcg as they are allocated, yet its memlock (map_mem_usage) is 0.
 * Since 6.13 the arena keeps its free page ranges in a range tree: allocated = max_entries - free. The tree
 * is walked without the arena's lock (an iterator cannot take a mutex): exact when nothing allocates or
 * frees during the walk, and bounded when something does.
 */
#define ARENA_WALK_STEPS (1 << 18)

struct arena_walk {
	struct rb_node *node;
	__u64 free;
	int climbing; /* node's subtree is counted: go up to the next right subtree not yet seen */
	int done;
};

static struct rb_node *rb_parent_of(struct rb_node *n)
{
	return (struct rb_node *)(BPF_CORE_READ(n, __rb_parent_color) & ~3UL);
}

/* One step of a pre-order walk through parent pointers: a BPF program has no stack to recurse with. */
static long arena_walk_step(__u64 step, void *ctx)
{
	struct arena_walk *w = ctx;
	struct rb_node *n = w->node, *next, *parent;

	if (!w->climbing) {
		struct range_node *r = (void *)n - bpf_core_field_offset(struct range_node, rn_rbnode);

		w->free += BPF_CORE_READ(r, rn_last) - BPF_CORE_READ(r, rn_start) + 1;
		next = BPF_CORE_READ(n, rb_left);
		if (!next)
			next = BPF_CORE_READ(n, rb_right);
		if (next)
			w->node = next;
		else
			w->climbing = 1;
		return 0;
	}
	parent = rb_parent_of(n);
	if (!parent) {
		w->done = 1;
		return 1;
	}
	next = BPF_CORE_READ(parent, rb_right);
	if (BPF_CORE_READ(parent, rb_left) == n && next) {
		w->node = next;
		w->climbing = 0;
	} else {
		w->node = parent;
	}
	return 0;
}

static void read_arena(struct bpf_map *map, struct map_record *rec)
{
	struct bpf_arena *arena;
	struct arena_walk w = {};

	if (!bpf_core_field_exists(struct bpf_arena, rt))
		return;
	arena = (void *)map - bpf_core_field_offset(struct bpf_arena, map);
	w.node = BPF_CORE_READ(arena, rt.it_root.rb_root.rb_node);
	if (w.node)
		bpf_loop(ARENA_WALK_STEPS, arena_walk_step, &w, 0);
	else
		w.done = 1;
	if (!w.done || w.free > rec->max_entries)
		return; /* changed under the walk: better no figure than a wrong one */
	rec->arena_pages = rec->max_entries - w.free;
	rec->flags |= MAP_ARENA_PAGES;
}

/* __noinline keeps struct map_record in the object's BTF (a static function's prototype is emitted; a local's type is not). */
static __noinline void read_map(struct bpf_map *map, struct map_record *rec)
{
	struct btf *btf = BPF_CORE_READ(map, btf);
	struct mem_cgroup *memcg;

	rec->map_id = BPF_CORE_READ(map, id);
	rec->users = BPF_CORE_READ(map, usercnt.counter);
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

	if (rec->map_type == BPF_MAP_TYPE_ARENA)
		read_arena(map, rec);

	memcg = charged_memcg(map);
	if (memcg) {
		struct kernfs_node *kn = BPF_CORE_READ(memcg, css.cgroup, kn);
		struct kernfs_node *parent = kn_parent(kn);

		rec->flags |= MAP_CHARGED;
		if (BPF_CORE_READ(memcg, css.flags) & CSS_ONLINE)
			rec->flags |= MAP_ONLINE;
		rec->cgroup_id = BPF_CORE_READ(kn, id);
		rec->parent_cgroup_id = parent ? BPF_CORE_READ(parent, id) : 0;
		bpf_probe_read_kernel_str(rec->cgroup_name, sizeof(rec->cgroup_name), BPF_CORE_READ(kn, name));
	}
}

SEC("iter/bpf_map")
int map_memcg(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	struct map_record rec = {};

	if (!map)
		return 0;
	read_map(map, &rec);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}

/* __noinline keeps struct holder_record in the object's BTF, as read_map does for map_record. */
static __noinline void read_holder(struct task_struct *task, struct file *file, struct holder_record *rec)
{
	struct bpf_map *map = BPF_CORE_READ(file, private_data);

	rec->pid = BPF_CORE_READ(task, tgid);
	rec->map_id = BPF_CORE_READ(map, id);
	/* The leader's name is the process's (/proc/PID/comm); a thread may have renamed itself. */
	BPF_CORE_READ_STR_INTO(&rec->comm, task, group_leader, comm);
}

SEC("iter/task_file")
int map_holders(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct holder_record rec = {};

	if (!file || !task || bpf_file_of(file) != BPF_FILE_MAP)
		return 0;
	read_holder(task, file, &rec);
	bpf_seq_write(ctx->meta->seq, &rec, sizeof(rec));
	return 0;
}
