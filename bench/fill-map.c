// Creates a TYPE (hash | percpu_hash) map with 8-byte keys, VALUE-byte values and N entries, fills
// it completely (keys 0..N-1, every byte of a value, per CPU too, derived from its key) and pins it at
// PIN, for bench/migrate-bench. The map is charged to the memory cgroup this process runs in.
// Build: gcc -O2 -Wall -o fill-map fill-map.c -lbpf
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK 4096

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: fill-map hash|percpu_hash VALUE_SIZE N PIN\n");
        return 2;
    }
    int percpu = !strcmp(argv[1], "percpu_hash");
    if (!percpu && strcmp(argv[1], "hash")) {
        fprintf(stderr, "fill-map: type must be hash or percpu_hash, not %s\n", argv[1]);
        return 2;
    }
    unsigned vsize = strtoul(argv[2], NULL, 10), n = strtoul(argv[3], NULL, 10);
    int fd = bpf_map_create(percpu ? BPF_MAP_TYPE_PERCPU_HASH : BPF_MAP_TYPE_HASH, "bench", 8, vsize, n, NULL);
    if (fd < 0) {
        fprintf(stderr, "fill-map: create: %s\n", strerror(errno));
        return 1;
    }
    // User space sees a per-CPU value as one 8-byte aligned copy per possible CPU.
    size_t vs = percpu ? ((vsize + 7) & ~7u) * libbpf_num_possible_cpus() : vsize;
    __u64 *keys = malloc(8 * CHUNK);
    unsigned char *values = malloc(vs * CHUNK);
    for (unsigned base = 0; base < n; base += CHUNK) {
        __u32 count = n - base < CHUNK ? n - base : CHUNK;
        for (__u32 i = 0; i < count; i++) {
            keys[i] = base + i;
            for (size_t b = 0; b < vs; b++) values[i * vs + b] = (unsigned char) (keys[i] * 31 + b);
        }
        if (bpf_map_update_batch(fd, keys, values, &count, NULL)) {
            fprintf(stderr, "fill-map: update batch at %u: %s\n", base, strerror(errno));
            return 1;
        }
    }
    if (bpf_obj_pin(fd, argv[4])) {
        fprintf(stderr, "fill-map: pin %s: %s\n", argv[4], strerror(errno));
        return 1;
    }
    return 0;
}
