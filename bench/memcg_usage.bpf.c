// SPDX-License-Identifier: GPL-2.0
/*
 * Bench-only (bench/memcg-usage-bench): each memcg's usage read inside an iterator pass through the memcg
 * kfuncs of Linux 7.0+ (mm/bpf_memcontrol.c), against memory.current read from cgroupfs.
 *
 * Built without VARIANT: SEC("iter/cgroup") cgroup_usage writes one struct usage_record per cgroup of the
 * walk (ctx->cgroup is a trusted pointer, &cgrp->self its css).
 * Built with -DVARIANT=N: an iter/bpf_map program that tries the kfuncs on the map's charged memcg, to
 * record what the verifier says about each way of reaching it:
 *   1  bpf_mem_cgroup_usage(map->objcg->memcg), the pointer walked with BTF (untrusted)
 *   2  bpf_get_mem_cgroup(&map->objcg->memcg->css), the same pointer through the acquiring kfunc
 *   3  bpf_mem_cgroup_usage on BPF_CORE_READ(map, objcg, memcg), as bpf/inventory.bpf.c reads it (a scalar)
 *   4  the memcg's cgroup looked up again by id (bpf_cgroup_from_id: trusted), then its memcg acquired
 */
#include <linux/types.h>

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct kernfs_node {
	__u64 id;
};
struct cgroup;
struct cgroup_subsys_state {
	struct cgroup *cgroup;
};
struct cgroup {
	struct cgroup_subsys_state self;
	struct kernfs_node *kn;
};
struct mem_cgroup {
	struct cgroup_subsys_state css;
};
struct obj_cgroup {
	struct mem_cgroup *memcg;
};
struct bpf_map {
	struct obj_cgroup *objcg;
};
struct seq_file;
struct bpf_iter_meta {
	struct seq_file *seq;
};
struct bpf_iter__cgroup {
	struct bpf_iter_meta *meta;
	struct cgroup *cgroup;
};
struct bpf_iter__bpf_map {
	struct bpf_iter_meta *meta;
	struct bpf_map *map;
};
#pragma clang attribute pop

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

extern struct mem_cgroup *bpf_get_mem_cgroup(struct cgroup_subsys_state *css) __ksym;
extern void bpf_put_mem_cgroup(struct mem_cgroup *memcg) __ksym;
extern unsigned long bpf_mem_cgroup_usage(struct mem_cgroup *memcg) __ksym;
extern struct cgroup *bpf_cgroup_from_id(__u64 cgid) __ksym;
extern void bpf_cgroup_release(struct cgroup *cgrp) __ksym;

struct usage_record {
	__u64 cgroup_id;
	__u64 usage;
};

#ifndef VARIANT
SEC("iter/cgroup")
int cgroup_usage(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct mem_cgroup *memcg;
	struct usage_record r;

	if (!cgrp)
		return 0;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (!memcg)
		return 0;
	r.cgroup_id = cgrp->kn->id;
	r.usage = bpf_mem_cgroup_usage(memcg);
	bpf_put_mem_cgroup(memcg);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
#else
SEC("iter/bpf_map")
int map_usage(struct bpf_iter__bpf_map *ctx)
{
	struct bpf_map *map = ctx->map;
	struct usage_record r = {};

	if (!map || !map->objcg)
		return 0;
	/* Puts struct mem_cgroup itself in the object's BTF (otherwise a forward declaration, which libbpf finds
	 * incompatible with the kfunc's prototype) where nothing reads a field of it. */
	if (!bpf_core_type_exists(struct mem_cgroup))
		return 0;
#if VARIANT == 1
	r.usage = bpf_mem_cgroup_usage(map->objcg->memcg);
#elif VARIANT == 2
	struct mem_cgroup *memcg = bpf_get_mem_cgroup(&map->objcg->memcg->css);

	if (!memcg)
		return 0;
	r.usage = bpf_mem_cgroup_usage(memcg);
	bpf_put_mem_cgroup(memcg);
#elif VARIANT == 3
	r.usage = bpf_mem_cgroup_usage((struct mem_cgroup *)BPF_CORE_READ(map, objcg, memcg));
#elif VARIANT == 4
	struct cgroup *cgrp = bpf_cgroup_from_id(BPF_CORE_READ(map, objcg, memcg, css.cgroup, kn, id));
	struct mem_cgroup *memcg;

	if (!cgrp)
		return 0;
	memcg = bpf_get_mem_cgroup(&cgrp->self);
	if (memcg) {
		r.usage = bpf_mem_cgroup_usage(memcg);
		bpf_put_mem_cgroup(memcg);
	}
	r.cgroup_id = cgrp->kn->id;
	bpf_cgroup_release(cgrp);
#endif
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
#endif
