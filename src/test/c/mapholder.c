/*
 * A container's process holding a BPF map by fd only, for OomdIT: opens the map pinned at PIN, removes the pin
 * (the fd is then the map's only reference), prints "holding" and waits until stdin closes or it is killed.
 * A JVM start costs half a minute in the VM stage; this costs nothing.
 *
 * usage: mapholder PIN
 */
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
    union bpf_attr a;
    char c;
    if (argc != 2) {
        fprintf(stderr, "usage: mapholder PIN\n");
        return 2;
    }
    memset(&a, 0, sizeof(a));
    a.pathname = (uint64_t)(uintptr_t)argv[1];
    if (syscall(__NR_bpf, BPF_OBJ_GET, &a, sizeof(a)) < 0 || unlink(argv[1]) != 0) {
        perror(argv[1]);
        return 1;
    }
    printf("holding\n");
    fflush(stdout);
    while (read(0, &c, 1) > 0) {
    }
    return 0;
}
