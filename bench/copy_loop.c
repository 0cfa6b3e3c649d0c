// The plain C baseline for bench/migrate-bench: copies a pinned map into a new twin with libbpf's
// batch calls, the way bpfcharge's Copier does (same batch size, ENOSPC handling), and reports
//   entries=N seconds=S entries_per_s=R
// where S covers the copy only (lookup batches + update batches), not creating the twin.
// With TWIN_PIN the twin is pinned there (to check it); without it, it is freed on exit.
// Build: gcc -O2 -Wall -o copy_loop copy_loop.c -lbpf
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH 4096 // io.bpfcharge.migrate.Copier.BATCH

static int fail(const char *what) {
    fprintf(stderr, "copy_loop: %s: %s\n", what, strerror(errno));
    return 1;
}

static int percpu(__u32 type) {
    return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY
        || type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: copy_loop PIN [TWIN_PIN]\n");
        return 2;
    }
    int src = bpf_obj_get(argv[1]);
    if (src < 0) return fail(argv[1]);
    struct bpf_map_info info = {0};
    __u32 len = sizeof info;
    if (bpf_obj_get_info_by_fd(src, &info, &len)) return fail("map info");

    int btf = info.btf_id ? bpf_btf_get_fd_by_id(info.btf_id) : -1;
    LIBBPF_OPTS(bpf_map_create_opts, copts, .map_flags = info.map_flags, .map_extra = info.map_extra,
                .map_ifindex = info.ifindex);
    if (btf >= 0) {
        copts.btf_fd = btf;
        copts.btf_key_type_id = info.btf_key_type_id;
        copts.btf_value_type_id = info.btf_value_type_id;
    }
    int dst = bpf_map_create(info.type, info.name, info.key_size, info.value_size, info.max_entries, &copts);
    if (dst < 0) return fail("create twin");

    // Per-CPU values are one 8-byte aligned copy per possible CPU, seen from user space.
    size_t ks = info.key_size;
    size_t vs = percpu(info.type) ? ((info.value_size + 7) & ~7u) * libbpf_num_possible_cpus() : info.value_size;
    __u32 cap = BATCH;
    void *keys = malloc(ks * cap), *values = malloc(vs * cap);
    __u64 in = 0, out = 0; // batch tokens: a bucket index for hashes (u32), a key for arrays
    if (ks > sizeof in) return fprintf(stderr, "copy_loop: keys over 8 bytes are not supported\n"), 2;
    LIBBPF_OPTS(bpf_map_batch_opts, bopts, .elem_flags = BPF_ANY);

    long total = 0;
    double start = now();
    void *token = NULL; // NULL: from the start
    for (int more = 1; more;) {
        __u32 n = cap;
        int err = bpf_map_lookup_batch(src, token, &out, keys, values, &n, NULL);
        if (err && errno == ENOSPC) {
            // One hash bucket holds more entries than the batch: retry the same bucket with room for it.
            cap *= 4;
            keys = realloc(keys, ks * cap);
            values = realloc(values, vs * cap);
            if (!keys || !values) return fail("realloc");
            continue;
        }
        if (err && errno != ENOENT) return fail("lookup batch");
        more = !err; // ENOENT: this was the last batch (it may still hold entries)
        if (n > 0) {
            __u32 w = n;
            if (bpf_map_update_batch(dst, keys, values, &w, &bopts)) return fail("update batch");
            total += n;
        }
        in = out;
        token = &in;
    }
    double secs = now() - start;
    if (argc == 3 && bpf_obj_pin(dst, argv[2])) return fail(argv[2]);
    printf("entries=%ld seconds=%.6f entries_per_s=%.0f\n", total, secs, total / secs);
    return 0;
}
