/* SPDX-License-Identifier: GPL-2.0 */
#ifndef BPFCHARGE_MAP_REFS_H
#define BPFCHARGE_MAP_REFS_H

/* The context of map_refs.bpf.c, written by the program (BPF_PROG_TEST_RUN copies it back). */
struct map_refs {
	__u64 users; /* usercnt: fds and pins */
	__u64 refs;  /* refcnt: users, programs (this one too), map-in-map slots, links */
};

#endif
