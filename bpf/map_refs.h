/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BPFCHARGE_MAP_REFS_H
#define BPFCHARGE_MAP_REFS_H

/* The one argument of map_refs.bpf.c's run (BPF_PROG_TEST_RUN of a raw tracepoint program: u64 arguments). */
struct map_refs_args {
	__u64 which;
};

enum map_refs_count {
	MAP_REFS_USERS = 0, /* usercnt: fds and pins */
	MAP_REFS_ALL = 1,   /* refcnt: users, programs (this one too), map-in-map slots, links */
};

#endif
