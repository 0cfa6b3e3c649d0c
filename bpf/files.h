/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which BPF object an open file is. Map, program and link fds are anonymous inodes that
 * bpf_map_new_fd, bpf_prog_new_fd and bpf_link_prime name "bpf-map", "bpf-prog" and "bpf_link";
 * only those functions make anonymous inodes of these names, whereas the name alone also matches a
 * regular file called so. bpftool compares file->f_op with &bpf_map_fops instead, but that address
 * is a data symbol: not in /proc/kallsyms without CONFIG_KALLSYMS_ALL and not in the kernel's BTF
 * (which lists per-CPU variables only), so such a program does not load on those kernels; and
 * reading /proc/kallsyms costs every load tens of milliseconds where it works.
 */
#ifndef BPFCHARGE_FILES_H
#define BPFCHARGE_FILES_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

enum bpf_file {
	BPF_FILE_OTHER = 0,
	BPF_FILE_MAP = 1,
	BPF_FILE_PROG = 2,
	BPF_FILE_LINK = 3,
};

/* The names as little-endian words: "bpf-map\0", and "bpf-prog", "bpf_link" each followed by '\0'. */
#define BPF_MAP_ANON_NAME  0x0070616d2d667062ULL
#define BPF_PROG_ANON_NAME 0x676f72702d667062ULL
#define BPF_LINK_ANON_NAME 0x6b6e696c5f667062ULL

static __always_inline enum bpf_file bpf_file_of(struct file *file)
{
	__u64 name[2] = {};

	if (BPF_CORE_READ(file, f_inode, i_sb, s_magic) != ANON_INODE_FS_MAGIC)
		return BPF_FILE_OTHER;
	/* Short names live inline in the dentry (32+ bytes), so reading 16 never leaves it. */
	bpf_probe_read_kernel(name, sizeof(name), BPF_CORE_READ(file, f_path.dentry, d_name.name));
	if (name[0] == BPF_MAP_ANON_NAME)
		return BPF_FILE_MAP;
	if ((name[1] & 0xff) != 0)
		return BPF_FILE_OTHER;
	if (name[0] == BPF_PROG_ANON_NAME)
		return BPF_FILE_PROG;
	if (name[0] == BPF_LINK_ANON_NAME)
		return BPF_FILE_LINK;
	return BPF_FILE_OTHER;
}

#endif
