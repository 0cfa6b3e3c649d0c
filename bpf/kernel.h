/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types bpfcharge's programs read, declared by hand instead of
 * a full vmlinux.h. preserve_access_index makes every field access a CO-RE
 * relocation, so offsets come from the running kernel's BTF. Structs named
 * "type___flavour" describe older layouts of the same type: libbpf ignores the
 * suffix when matching, and bpf_core_field_exists() picks the layout at load.
 */
#ifndef BPFCHARGE_KERNEL_H
#define BPFCHARGE_KERNEL_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct kernfs_node {
	struct kernfs_node *__parent; /* 6.15+: RCU-protected, renamed */
	const char *name;
	__u64 id;                     /* == inode number of the cgroup directory */
};

struct kernfs_node___pre615 {
	struct kernfs_node *parent;
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
	unsigned int flags;
};

struct mem_cgroup {
	struct cgroup_subsys_state css;
};

struct obj_cgroup {
	struct mem_cgroup *memcg;
};

/* include/uapi/linux/bpf.h: the map types and update flags bpfcharge's programs use (uapi: never renumbered). */
enum bpf_map_type {
	BPF_MAP_TYPE_UNSPEC = 0,
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_ARRAY_OF_MAPS = 12,
	BPF_MAP_TYPE_ARENA = 33,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

struct btf {
	__u32 id;
};

typedef struct {
	__s64 counter;
} atomic64_t;

struct bpf_map {
	__u32 id;
	enum bpf_map_type map_type;
	__u32 key_size;
	__u32 value_size;
	__u32 max_entries;
	__u32 map_flags;
	__u64 map_extra;          /* 5.16+ */
	__u32 btf_key_type_id;
	__u32 btf_value_type_id;
	__u32 btf_vmlinux_value_type_id;
	struct btf *btf;
	char name[16];
	struct obj_cgroup *objcg; /* 6.0+ */
	atomic64_t refcnt;        /* every reference: users, programs, map-in-map slots, links */
	atomic64_t usercnt;       /* fds and pins */
};

struct bpf_map___pre60 {
	struct mem_cgroup *memcg; /* 5.11 to 5.19 */
};

struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
};

struct path {
	struct dentry *dentry;
};

struct super_block {
	unsigned long s_magic;
};

struct inode {
	struct super_block *i_sb;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
	void *private_data;
};

#define TASK_COMM_LEN 16

struct task_struct {
	int tgid;
	struct task_struct *group_leader;
	char comm[TASK_COMM_LEN];
};

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
};

struct rb_node {
	unsigned long __rb_parent_color; /* the parent's address; the low two bits hold the colour */
	struct rb_node *rb_right;
	struct rb_node *rb_left;
};

struct rb_root {
	struct rb_node *rb_node;
};

struct rb_root_cached {
	struct rb_root rb_root;
};

/* kernel/bpf/range_tree.h (6.13+): an arena's free page ranges, one node per run of free pages. */
struct range_tree {
	struct rb_root_cached it_root;
};

struct range_node {
	struct rb_node rn_rbnode;
	__u32 rn_start;
	__u32 rn_last; /* inclusive */
};

/* kernel/bpf/arena.c; 6.9 to 6.12 tracked allocated ranges in a maple tree instead (no rt member). */
struct bpf_arena {
	struct bpf_map map;
	struct range_tree rt;
};

#pragma clang attribute pop

#define CSS_ONLINE (1 << 1)
#define ANON_INODE_FS_MAGIC 0x09041934 /* include/uapi/linux/magic.h */

#endif
