// One map's reference counts at N maps (run by bench/refs-bench, as root): CPU time per call (thread CPU, user
// and kernel) of the inventory iterator's walk (InventoryIterators.users), of MapRefs.read (the lookup program
// loaded against the one map), of loading and closing that program (once per map a migration looks at), and
// of ProgFd.loaded (every loaded program's map list, the "does a program use it" question that MapRefs'
// total count lets the poll skip). Medians of RUNS calls each, after as many to warm up. Then the poll loop
// itself while a holder keeps the map: CPU time per look, 2 ms pause included (its wake-up costs too), of the
// walk (the old loop) and of MapRefs (programs not listed while its total count shows no other reference).
import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapRefs;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.bpf.ProgFd;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

public class RefsBench {
    static final ThreadMXBean CPU = ManagementFactory.getThreadMXBean();

    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]), runs = Integer.parseInt(args[1]);
        List<MapFd> maps = new ArrayList<>(n);
        try (InventoryIterators it = InventoryIterators.open()) {
            for (int i = 0; i < n; i++)
                maps.add(MapFd.create(new MapInfo(0, MapType.HASH, "refs_bench", 4, 8, 1, 0, 0, 0, 0, 0, 0, 0), null, null));
            MapFd target = maps.get(n / 2);
            int id = target.info().id();
            System.out.printf("maps in the kernel: %d, programs: %d%n", MapFd.ids().size(), ProgFd.ids().size());
            try (MapRefs refs = MapRefs.load(target)) {
                report("InventoryIterators.users(id)", runs, () -> it.users(id));
                report("MapRefs.read()", runs, refs::read);
                report("ProgFd.loaded()", runs, ProgFd::loaded);
            }
            report("MapRefs.load + close", runs, () -> MapRefs.load(target).close());
            try (MapFd holder = MapFd.byId(id); MapRefs refs = MapRefs.load(target)) {
                poll("poll loop, walk", runs, () -> it.users(id) <= 1 && ProgFd.loaded().stream().noneMatch(p -> p.mapIds().contains(id)));
                poll("poll loop, MapRefs", runs, () -> {
                    MapRefs.Counts c = refs.read();
                    return c.users() <= 1 && (c.others() == 0 || ProgFd.loaded().stream()
                            .noneMatch(p -> p.id() != refs.programId() && p.mapIds().contains(id)));
                });
            }
        } finally {
            maps.forEach(MapFd::close);
        }
    }

    /** RUNS looks, 2 ms apart, each seeing the holder. */
    static void poll(String what, int runs, java.util.function.BooleanSupplier quiet) {
        long cpu = CPU.getCurrentThreadCpuTime();
        for (int i = 0; i < runs; i++) {
            if (quiet.getAsBoolean()) throw new IllegalStateException("the holder's reference was not seen");
            try {
                Thread.sleep(2);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        System.out.printf("%-30s mean %9.1f us CPU a look, pause included (%d looks)%n", what, (CPU.getCurrentThreadCpuTime() - cpu) / 1e3 / runs, runs);
    }

    static void report(String what, int runs, Runnable call) {
        for (int i = 0; i < runs; i++) call.run();
        long[] ns = new long[runs];
        for (int i = 0; i < runs; i++) {
            long t = CPU.getCurrentThreadCpuTime();
            call.run();
            ns[i] = CPU.getCurrentThreadCpuTime() - t;
        }
        Arrays.sort(ns);
        System.out.printf("%-30s median %9.1f us  p90 %9.1f us  (%d calls)%n", what, ns[runs / 2] / 1e3, ns[runs * 9 / 10] / 1e3, runs);
    }
}
