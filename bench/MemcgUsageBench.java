// Memcg usage read two ways, at K memcgs (run by bench/memcg-usage-bench, as root, on cgroup v2): (a) the usage file
// (memory.current) of K memcgs read the way a scan does (MemoryHierarchy.usage, one file each), against (b) one pass of
// an iter/cgroup program that writes every cgroup's (id, usage) through the memcg kfuncs of Linux 7.0+
// (bench/memcg_usage.bpf.c), parsed into a map. Also (c): every file a scan reads per memcg (inventory.Memcgs), and
// (d): the same without the usage file, so that (d)+(b) is what the scan's memcg part would cost with the kfuncs.
// Wall time per pass, medians of RUNS rounds after as many to warm up, the passes interleaved within each round.
// Makes K memcgs below its own cgroup, the first holding a sleeping process (so that the check of (b) against
// memory.current compares a non-zero usage too), and removes them on exit. Without the kfuncs (before 7.0, or on
// cgroup v1) the program does not load: it says so and times the files only. With more object files after K and
// RUNS, it tries to load each (the iter/bpf_map variants) and prints whether the verifier took it; libbpf prints
// the verifier's log on stderr.
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

public class MemcgUsageBench {
    static final Linker LINKER = Linker.nativeLinker();
    static final SymbolLookup BPF = SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
    static final MethodHandle OPEN = bpf("bpf_object__open_file", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle LOAD = bpf("bpf_object__load", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle CLOSE_OBJ = bpf("bpf_object__close", FunctionDescriptor.ofVoid(ADDRESS));
    static final MethodHandle FIND_PROG = bpf("bpf_object__find_program_by_name", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle ATTACH_ITER = bpf("bpf_program__attach_iter", FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle LINK_FD = bpf("bpf_link__fd", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle LINK_DESTROY = bpf("bpf_link__destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle ITER_CREATE = bpf("bpf_iter_create", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle READ = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("read"), FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().findOrThrow("close"), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final int DESCENDANTS_PRE = 2; // enum bpf_cgroup_iter_order

    static MethodHandle bpf(String name, FunctionDescriptor d) { return LINKER.downcallHandle(BPF.findOrThrow(name), d); }

    public static void main(String[] args) throws Throwable {
        int k = Integer.parseInt(args[1]), runs = Integer.parseInt(args[2]);
        for (int i = 3; i < args.length; i++)
            try (Arena a = Arena.ofConfined()) {
                MemorySegment obj = open(a, args[i]);
                int err = (int) LOAD.invokeExact(obj);
                System.out.printf("%s: %s%n", Path.of(args[i]).getFileName(), err == 0 ? "loaded (the verifier took it)" : "refused, error " + err);
                CLOSE_OBJ.invokeExact(obj);
            }
        MemoryHierarchy h = MemoryHierarchy.detect();
        String own = h.ownCgroup();
        String parent = (own.equals("/") ? "" : own) + "/memcg-usage-bench-" + ProcessHandle.current().pid();
        List<String> cgroups = new ArrayList<>(k);
        Process sleeper = null;
        try (Arena arena = Arena.ofConfined()) {
            Files.createDirectory(h.dir(parent));
            if (h.version() == 2) Files.writeString(h.dir(parent).resolve("cgroup.subtree_control"), "+memory");
            for (int i = 0; i < k; i++) {
                cgroups.add(parent + "/m" + i);
                Files.createDirectory(h.dir(cgroups.getLast()));
            }
            sleeper = new ProcessBuilder("sh", "-c", "echo $$ > " + h.procs(cgroups.getFirst()) + " && exec sleep 600").start();
            while (h.processes(cgroups.getFirst()).isEmpty() || h.usage(cgroups.getFirst()).orElse(0) == 0) Thread.sleep(10);
            System.out.printf("kernel %s, cgroup v%d, %d memcgs below %s (the first holds a sleeping process)%n",
                    Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim(), h.version(), k, parent);

            MemorySegment iter = h.version() == 2 ? cgroupIterator(arena, args[0], h.id("/")) : null;
            if (iter != null) {
                Map<Long, Long> usage = pass(iter);
                int agree = 0;
                for (String cg : cgroups) {
                    long file = h.usage(cg).orElse(-1), kfunc = usage.getOrDefault(h.id(cg), -2L);
                    if (file == kfunc) agree++;
                    else System.out.printf("  disagree at %s: memory.current %d, kfunc %d%n", cg, file, kfunc);
                }
                System.out.printf("(b) check: %d of %d memcgs agree with memory.current (the first: %d bytes); the pass sees %d cgroups%n",
                        agree, k, usage.get(h.id(cgroups.getFirst())), usage.size());
            } else {
                System.out.println("(b) not measured: the iter/cgroup program did not load or attach (no memcg kfuncs: Linux 7.0+, cgroup v2)");
            }
            List<Pass> passes = new ArrayList<>(List.<Pass>of(
                    () -> { for (String cg : cgroups) h.usage(cg); },
                    () -> scanFiles(h, cgroups, true),
                    () -> scanFiles(h, cgroups, false)));
            if (iter != null) passes.add(() -> pass(iter));
            long[][] t = time(runs, passes);
            report("(a) usage file, K memcgs", t[0], k);
            report("(c) a scan's memcg files", t[1], k);
            report("(d) the same but usage", t[2], k);
            if (iter != null) {
                report("(b) one iter/cgroup pass", t[3], k);
                long am = t[0][runs / 2], cm = t[1][runs / 2], dm = t[2][runs / 2], bm = t[3][runs / 2];
                System.out.printf("ratio (a)/(b) %.2f; a scan's memcg part: files (c) %.1f us, usage from the pass (d)+(b) %.1f us (%.2fx)%n",
                        (double) am / bm, cm / 1e3, (dm + bm) / 1e3, (double) cm / (dm + bm));
                int ignored = (int) LINK_DESTROY.invokeExact(iter);
                CLOSE_OBJ.invokeExact(iterObject);
            }
        } finally {
            if (sleeper != null) {
                sleeper.destroyForcibly();
                sleeper.waitFor(10, TimeUnit.SECONDS);
            }
            for (String cg : cgroups.reversed()) Files.deleteIfExists(h.dir(cg));
            Files.deleteIfExists(h.dir(parent));
        }
    }

    /**
     * The files a scan reads per memcg that holds maps, as inventory.Memcgs does: the id check of CgroupIndex.path,
     * populated, its processes and children only when populated, then usage (unless told not to) and limit.
     */
    static void scanFiles(MemoryHierarchy h, List<String> cgroups, boolean usage) {
        for (String cg : cgroups) {
            h.id(cg);
            if (h.populated(cg) && h.processes(cg).isEmpty()) h.hasChildren(cg);
            if (usage) h.usage(cg);
            h.limit(cg);
        }
    }

    static MemorySegment open(Arena a, String path) throws Throwable {
        MemorySegment obj = (MemorySegment) OPEN.invokeExact(a.allocateFrom(path), MemorySegment.NULL);
        if (obj.equals(MemorySegment.NULL)) throw new IllegalStateException("cannot open " + path);
        return obj;
    }

    /** Loads the iter/cgroup program and attaches it to walk every cgroup from the root down; null when it cannot. */
    static MemorySegment iterObject;

    static MemorySegment cgroupIterator(Arena a, String path, long rootId) throws Throwable {
        MemorySegment obj = iterObject = open(a, path);
        int err = (int) LOAD.invokeExact(obj);
        if (err != 0) return null;
        MemorySegment info = a.allocate(16, 8); // union bpf_iter_link_info: cgroup {order, cgroup_fd, cgroup_id}
        info.set(JAVA_INT, 0, DESCENDANTS_PRE);
        info.set(JAVA_LONG, 8, rootId);
        MemorySegment opts = a.allocate(24, 8); // struct bpf_iter_attach_opts {sz, link_info, link_info_len}
        opts.set(JAVA_LONG, 0, 24);
        opts.set(ADDRESS, 8, info);
        opts.set(JAVA_INT, 16, 16);
        MemorySegment prog = (MemorySegment) FIND_PROG.invokeExact(obj, a.allocateFrom("cgroup_usage"));
        MemorySegment link = (MemorySegment) ATTACH_ITER.invokeExact(prog, opts);
        return link.equals(MemorySegment.NULL) ? null : link;
    }

    static MemorySegment buf = Arena.global().allocate(1 << 16, 8);

    /** One walk read to its end (as BpfObject.Iterator.readAll does) and parsed into cgroup id to usage. */
    static Map<Long, Long> pass(MemorySegment link) {
        long len = 0;
        try {
            int iterFd = (int) ITER_CREATE.invokeExact((int) LINK_FD.invokeExact(link));
            if (iterFd < 0) throw new IllegalStateException("bpf_iter_create: " + iterFd);
            try {
                while (true) {
                    if (len == buf.byteSize()) buf = Arena.global().allocate(2 * len, 8).copyFrom(buf);
                    long n = (long) READ.invokeExact(iterFd, buf.asSlice(len), buf.byteSize() - len);
                    if (n < 0) throw new IllegalStateException("read iterator");
                    if (n == 0) break;
                    len += n;
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(iterFd);
            }
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        ByteBuffer b = ByteBuffer.wrap(buf.asSlice(0, len).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).order(ByteOrder.nativeOrder());
        Map<Long, Long> out = new HashMap<>();
        for (int off = 0; off + 16 <= len; off += 16) out.put(b.getLong(off), b.getLong(off + 8));
        return out;
    }

    interface Pass {
        void run() throws Throwable;
    }

    /** RUNS rounds to warm up, then RUNS measured, each round running every pass once in turn (load drifts alike on all). */
    static long[][] time(int runs, List<Pass> passes) throws Throwable {
        for (int i = 0; i < runs; i++)
            for (Pass p : passes) p.run();
        long[][] ns = new long[passes.size()][runs];
        for (int i = 0; i < runs; i++)
            for (int j = 0; j < passes.size(); j++) {
                long t = System.nanoTime();
                passes.get(j).run();
                ns[j][i] = System.nanoTime() - t;
            }
        for (long[] n : ns) Arrays.sort(n);
        return ns;
    }

    static void report(String what, long[] ns, int k) {
        int runs = ns.length;
        System.out.printf("%-28s median %10.1f us  min %10.1f us  p90 %10.1f us  (median %.2f us a memcg, %d passes)%n", what,
                ns[runs / 2] / 1e3, ns[0] / 1e3, ns[runs * 9 / 10] / 1e3, ns[runs / 2] / 1e3 / k, runs);
    }
}
