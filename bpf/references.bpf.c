// SPDX-License-Identifier: GPL-2.0
/*
 * Who references each BPF object, with the kernel's own reference counts, so
 * that user space can tell which maps a kill of a cgroup's tasks would free
 * (see Survival.java). A count above the references user space can name
 * (fds, pins, programs, map-of-maps slots, links) means something it cannot
 * see keeps the object: a tc or XDP attachment made without a link, a
 * prog_array slot, a pin in another mount namespace's bpffs.
 *
 * bpf_files: every open map, program and link file of every process, once per
 * fd (the file pointer lets user space count a file shared by fds or forks
 * once: it holds one reference).
 * map_refs: every map's reference count.
 */
#include "kernel.h"
#include "references.h"
#include "files.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
/* "___refs" flavours: libbpf matches them to the kernel's types by the name before "___". */
struct bpf_map___refs {
	atomic64_t refcnt;
	__u32 id;
};

struct bpf_prog_aux___refs {
	atomic64_t refcnt;
	__u32 id;
};

struct bpf_prog___refs {
	struct bpf_prog_aux___refs *aux;
};

struct bpf_link___refs {
	atomic64_t refcnt;
	__u32 id;
	struct bpf_prog___refs *prog;
};
#pragma clang attribute pop

static void prog_ref(struct bpf_prog___refs *prog, __u32 *id, __s64 *refcnt)
{
	struct bpf_prog_aux___refs *aux = BPF_CORE_READ(prog, aux);

	*id = BPF_CORE_READ(aux, id);
	*refcnt = BPF_CORE_READ(aux, refcnt.counter);
}

/*
 * The BPF object an open file is (files.h); 0 for any other file. __noinline keeps struct file_ref in the
 * object's BTF.
 */
static __noinline int read_file_ref(struct task_struct *task, struct file *file, struct file_ref *r)
{
	enum bpf_file kind = bpf_file_of(file);
	void *obj;

	if (kind == BPF_FILE_OTHER)
		return 0;
	obj = BPF_CORE_READ(file, private_data);
	if (kind == BPF_FILE_MAP) {
		struct bpf_map___refs *map = obj;

		r->kind = REF_MAP;
		r->id = BPF_CORE_READ(map, id);
		r->refcnt = BPF_CORE_READ(map, refcnt.counter);
	} else if (kind == BPF_FILE_PROG) {
		r->kind = REF_PROG;
		prog_ref(obj, &r->id, &r->refcnt);
	} else {
		struct bpf_link___refs *link = obj;
		struct bpf_prog___refs *prog = BPF_CORE_READ(link, prog);

		r->kind = REF_LINK;
		r->id = BPF_CORE_READ(link, id);
		r->refcnt = BPF_CORE_READ(link, refcnt.counter);
		if (prog)
			prog_ref(prog, &r->prog_id, &r->prog_refcnt);
	}
	r->pid = BPF_CORE_READ(task, tgid);
	r->file = (__u64)file;
	return 1;
}

SEC("iter/task_file")
int bpf_files(struct bpf_iter__task_file *ctx)
{
	struct file *file = ctx->file;
	struct task_struct *task = ctx->task;
	struct file_ref r = {};

	if (file && task && read_file_ref(task, file, &r))
		bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

static __noinline void read_map_ref(struct bpf_map___refs *map, struct map_ref *r)
{
	r->map_id = BPF_CORE_READ(map, id);
	/* The iterator holds one reference on the map it shows: not one of the map's own. */
	r->refcnt = BPF_CORE_READ(map, refcnt.counter) - 1;
}

SEC("iter/bpf_map")
int map_refs(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map___refs *map = (struct bpf_map___refs *)ctx->map;
	struct map_ref r = {};

	if (!map)
		return 0;
	read_map_ref(map, &r);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
