// Creates N small pinned BPF maps in DIR (DIR/m0 .. DIR/m<N-1>) for bench/scan-bench.
// One process and two syscalls per map: 10,000 bpftool runs would take minutes.
// The maps live as long as their pins: `rm -rf DIR` frees them all.
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: make-maps N DIR (DIR in bpffs, must exist)\n");
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    char path[4096];
    for (long i = 0; i < n; i++) {
        // Small but real maps in a mix like a networking agent's: 7 in 10 arrays, 2 preallocated hashes,
        // 1 hash without preallocation (its memlock follows its entries: a scan must read it every time).
        LIBBPF_OPTS(bpf_map_create_opts, no_prealloc, .map_flags = BPF_F_NO_PREALLOC);
        int kind = i % 10;
        int fd = kind < 7 ? bpf_map_create(BPF_MAP_TYPE_ARRAY, "bench", 4, 8, 8, NULL)
               : bpf_map_create(BPF_MAP_TYPE_HASH, "bench", 4, 8, 64, kind < 9 ? NULL : &no_prealloc);
        if (fd < 0) {
            fprintf(stderr, "make-maps: map %ld: create: %s\n", i, strerror(errno));
            return 1;
        }
        snprintf(path, sizeof path, "%s/m%ld", argv[2], i);
        if (bpf_obj_pin(fd, path)) {
            fprintf(stderr, "make-maps: pin %s: %s\n", path, strerror(errno));
            return 1;
        }
        close(fd);
    }
    return 0;
}
