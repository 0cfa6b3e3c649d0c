/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What merge_sum.bpf.c takes and returns. The Java side (bpf/MergeSum.java) declares the same, and
 * BtfLayoutTest checks it against this object's BTF.
 */
#ifndef BPFCHARGE_MERGE_SUM_H
#define BPFCHARGE_MERGE_SUM_H

#define MAX_KEY 512
#define MAX_WORDS 512 /* values up to 4 KiB */

/* The program's context: the key, and one delta per u64 word of the value. */
struct merge_args {
	__u8 key[MAX_KEY];
	__u64 delta[MAX_WORDS];
};

_Static_assert(sizeof(struct merge_args) == MAX_KEY + 8 * MAX_WORDS, "merge_args is written as 4608 bytes");

enum merge_result {
	MERGE_OK = 0,
	MERGE_NOT_INSERTED = 1, /* dst neither took the key nor holds it: full, or a program deleted it meanwhile */
	MERGE_BAD_ARGS = 2,     /* the context could not be read */
};

#endif
