/*
 * A container's program for the node agent's tests: it loads a BPF program that looks its inner map up
 * through a pinned map-of-maps (the program holds the OUTER map) and writes key 0x100000+i -> i*3 through it
 * for i from FIRST on, one write every 5 ms, as a datapath would; optionally it holds more pins open by fd, and
 * for a HELD_PIN written "+PIN" it also writes key 0x200000+i -> i*3 through that fd at each step, as an
 * application would (the map needs 8-byte keys and values). Static, raw bpf(2) calls only, so it runs in a
 * busybox rootfs.
 *
 * usage: pinwriter OUTER_PIN FIRST WRITES [[+]HELD_PIN...]; prints "holding" once every fd is open, "done" after
 * the writes.
 */
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *a) { return syscall(__NR_bpf, cmd, a, sizeof(*a)); }

static int obj_get(const char *path) {
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.pathname = (uint64_t)(uintptr_t)path;
    return (int)sys_bpf(BPF_OBJ_GET, &a);
}

#define INSN(c, d, s, o, i) ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: pinwriter OUTER_PIN FIRST WRITES [HELD_PIN...]\n");
        return 2;
    }
    int outer = obj_get(argv[1]);
    if (outer < 0) { perror(argv[1]); return 1; }
    int written[64], nwritten = 0;
    for (int i = 4; i < argc; i++) {
        const char *pin = argv[i][0] == '+' ? argv[i] + 1 : argv[i];
        int fd = obj_get(pin);
        if (fd < 0) { perror(pin); return 1; }
        if (argv[i][0] == '+' && nwritten < 64) written[nwritten++] = fd;
    }
    struct bpf_insn prog[] = {
        INSN(BPF_LDX | BPF_W | BPF_MEM, 6, 1, 0, 0),          /* r6 = xdp->data */
        INSN(BPF_LDX | BPF_W | BPF_MEM, 7, 1, 4, 0),          /* r7 = xdp->data_end */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 8, 6, 0, 0),        /* r8 = r6 */
        INSN(BPF_ALU64 | BPF_ADD | BPF_K, 8, 0, 0, 16),       /* r8 += 16 */
        INSN(BPF_JMP | BPF_JGT | BPF_X, 8, 7, 18, 0),         /* if r8 > r7 goto out */
        INSN(BPF_LDX | BPF_DW | BPF_MEM, 8, 6, 0, 0),         /* r8 = key */
        INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 8, -16, 0),      /* *(r10-16) = key */
        INSN(BPF_LDX | BPF_DW | BPF_MEM, 9, 6, 8, 0),         /* r9 = value */
        INSN(BPF_STX | BPF_DW | BPF_MEM, 10, 9, -24, 0),      /* *(r10-24) = value */
        INSN(BPF_ST | BPF_W | BPF_MEM, 10, 0, -4, 0),         /* *(u32 *)(r10-4) = 0: the outer slot */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
        INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),       /* r2 = &slot */
        INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, outer), INSN(0, 0, 0, 0, 0), /* r1 = outer */
        INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
        INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 7, 0),          /* no inner map: out */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 0, 0, 0),        /* r1 = inner */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
        INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -16),      /* r2 = &key */
        INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
        INSN(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -24),      /* r3 = &value */
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, 4, 0, 0, BPF_ANY),
        INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem),
        INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 2),        /* out: XDP_PASS */
        INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    char log[65536] = "";
    union bpf_attr a;
    memset(&a, 0, sizeof(a));
    a.prog_type = BPF_PROG_TYPE_XDP;
    a.insns = (uint64_t)(uintptr_t)prog;
    a.insn_cnt = sizeof(prog) / sizeof(prog[0]);
    a.license = (uint64_t)(uintptr_t)"GPL";
    a.log_buf = (uint64_t)(uintptr_t)log;
    a.log_size = sizeof(log);
    a.log_level = 1;
    strcpy(a.prog_name, "pinwriter");
    int fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
    if (fd < 0) { perror("BPF_PROG_LOAD"); fprintf(stderr, "%s\n", log); return 1; }
    printf("holding\n");
    fflush(stdout);
    long first = atol(argv[2]), writes = atol(argv[3]);
    for (long i = first; i < first + writes; i++) {
        uint64_t packet[4] = {0x100000 + (uint64_t)i, (uint64_t)i * 3, 0, 0};
        memset(&a, 0, sizeof(a));
        a.test.prog_fd = fd;
        a.test.data_in = (uint64_t)(uintptr_t)packet;
        a.test.data_size_in = sizeof(packet);
        if (sys_bpf(BPF_PROG_TEST_RUN, &a) < 0) { perror("BPF_PROG_TEST_RUN"); return 1; }
        for (int w = 0; w < nwritten; w++) {
            uint64_t key = 0x200000 + (uint64_t)i, value = (uint64_t)i * 3;
            memset(&a, 0, sizeof(a));
            a.map_fd = (uint32_t)written[w];
            a.key = (uint64_t)(uintptr_t)&key;
            a.value = (uint64_t)(uintptr_t)&value;
            if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a) < 0) { perror("BPF_MAP_UPDATE_ELEM"); return 1; }
        }
        usleep(5000);
    }
    printf("done\n");
    fflush(stdout);
    for (;;) pause();
}
