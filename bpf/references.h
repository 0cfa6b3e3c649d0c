/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records references.bpf.c's iterators write. The Java side (bpf/Structs.java) declares the same
 * layouts, and BtfLayoutTest checks them against the compiled object's BTF, member by member.
 */
#ifndef BPFCHARGE_REFERENCES_H
#define BPFCHARGE_REFERENCES_H

enum ref_kind {
	REF_MAP = 1,
	REF_PROG = 2,
	REF_LINK = 3,
};

/* bpf_files: one per map, program or link fd of every process. */
struct file_ref {
	__u32 pid;           /* tgid */
	enum ref_kind kind;
	__u32 id;            /* map, program or link id */
	__u32 prog_id;       /* a link's program; 0 otherwise */
	__u64 file;          /* identity of the open file (its address), to count a file shared by fds once */
	__s64 refcnt;        /* the object's reference count */
	__s64 prog_refcnt;   /* a link's program's reference count; 0 otherwise */
};

_Static_assert(sizeof(struct file_ref) == 40, "file_ref is read as 40 bytes");

/* map_refs: one per map in the system. */
struct map_ref {
	__u32 map_id;
	__u32 pad;
	__s64 refcnt;        /* the map's own references (the iterator's taken off) */
};

_Static_assert(sizeof(struct map_ref) == 16, "map_ref is read as 16 bytes");

#endif
