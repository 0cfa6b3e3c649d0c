package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.MapMaker;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A key whose value is zero is data (a preallocated counter, a flag): every strategy and merge keeps it, in every
 * map family. Swap-backfill with sum once dropped them all with exit 0 (the backfill's baseline is empty, and a
 * zero delta was taken as "nothing to carry over"), so a BPF program's lookup-then-add never found them again.
 */
class ZeroValuesIT extends MigrationTestBase {
    private static final int ENTRIES = 600;

    // In the v2 VM too: the case that lost every zero-valued key, and its per-CPU sibling.
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"hash,swap-backfill,sum", "percpu_hash,swap-backfill,sum"})
    void backfilledSumKeepsZeroValuedKeys(String type, String strategy, String merge) throws Exception {
        keepsEveryKey(type, strategy, merge);
    }

    @HostOnly
    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"hash,copy-swap,overwrite", "hash,copy-swap,sum", "hash,swap-backfill,overwrite",
            "percpu_hash,copy-swap,overwrite", "percpu_hash,copy-swap,sum", "percpu_hash,swap-backfill,overwrite",
            "lru_hash,copy-swap,overwrite", "lru_hash,copy-swap,sum",
            "lru_percpu_hash,copy-swap,overwrite", "lru_percpu_hash,copy-swap,sum",
            "array,copy-swap,overwrite", "array,copy-swap,sum", "array,swap-backfill,overwrite", "array,swap-backfill,sum",
            "percpu_array,swap-backfill,sum", "lpm_trie,copy-swap,overwrite", "lpm_trie,swap-backfill,overwrite",
            "inner,copy-swap,sum", "inner,swap-backfill,sum", "inner,swap-backfill,overwrite"})
    void everyStrategyAndMergeKeepsZeroValuedKeys(String type, String strategy, String merge) throws Exception {
        keepsEveryKey(type, strategy, merge);
    }

    private void keepsEveryKey(String type, String strategy, String merge) throws Exception {
        String name = "z" + Math.abs((type + strategy + merge).hashCode());
        Path pin = cg.pin(name), outer = type.equals("inner") ? cg.pin(name + "_o") : null;
        boolean lpm = type.equals("lpm_trie");
        MapMaker.Spec map = spec(outer != null ? "hash" : type, lpm ? 8 : 4, 8, 1024, name).flags(lpm ? 1 : 0).pin(pin);
        int oldId;
        try (MapMaker.Maps m = outer == null ? MapMaker.run(cg, src, false, map)
                : MapMaker.run(cg, src, false, map, spec("hash_of_maps", 4, 4, 1, name + "_o").pin(outer).outerOfPrevious())) {
            oldId = m.id(0);
        }
        Map<String, String> before;
        try (MapFd old = Kernel.open(pin)) {
            Kernel.fill(old, type.contains("lru") ? ENTRIES / 2 : ENTRIES, 5);
            assertTrue(zeroEveryThird(old) >= ENTRIES / 6, "zero-valued keys made");
            before = contents(old, merge);
        }
        // An inner map is named by id: its standalone pin would be re-pinned too, but the slot is what a program reads.
        Cli.Result r = Kernel.migrate(runDir, null, "--map", outer == null ? pin.toString() : "id:" + oldId,
                "--to-cgroup", dst, "--strategy", strategy, "--merge", merge);
        assertEquals(0, r.exit(), r.err());
        int newId = outer == null ? Kernel.idAt(pin) : MigrateIT.slot0(outer);
        try (MapFd neu = MapFd.byId(newId)) {
            assertSameEntries(before, contents(neu, merge));
        }
        assertEquals(cg.hierarchy().id(dst), Kernel.chargedTo(newId), "charged to the target");
        Files.delete(pin);
        if (outer != null) Files.delete(outer);
    }

    /**
     * Key hex to value hex. Sum adds a per-CPU map's deltas on the CPU its program runs on: what it keeps is each
     * u64 word's total over the CPUs, so that is what is compared.
     */
    private static Map<String, String> contents(MapFd map, String merge) {
        Map<String, String> dump = Kernel.dump(map);
        if (!merge.equals("sum") || !map.info().type().isPerCpu()) return dump;
        Map<String, String> totals = new TreeMap<>();
        int words = map.info().valueSize() / 8;
        dump.forEach((k, v) -> {
            ByteBuffer b = ByteBuffer.wrap(HexFormat.of().parseHex(v)).order(ByteOrder.nativeOrder());
            long[] sum = new long[words];
            for (int off = 0; off < b.capacity(); off += 8) sum[(off / 8) % words] += b.getLong(off);
            totals.put(k, Arrays.toString(sum));
        });
        return totals;
    }

    /** Fails with counts and a few examples, not two dumps of hundreds of entries. */
    private static void assertSameEntries(Map<String, String> before, Map<String, String> after) {
        List<String> missing = before.keySet().stream().filter(k -> !after.containsKey(k)).toList();
        List<String> changed = before.keySet().stream().filter(k -> after.containsKey(k) && !after.get(k).equals(before.get(k)))
                .map(k -> k + ": " + before.get(k) + " -> " + after.get(k)).toList();
        List<String> extra = after.keySet().stream().filter(k -> !before.containsKey(k)).toList();
        if (missing.isEmpty() && changed.isEmpty() && extra.isEmpty()) return;
        fail(missing.size() + " of " + before.size() + " keys missing (e.g. " + first(missing) + " before: "
                + (missing.isEmpty() ? "-" : before.get(missing.getFirst())) + "), " + changed.size() + " changed (e.g. "
                + first(changed) + "), " + extra.size() + " extra (e.g. " + first(extra) + ")");
    }

    private static String first(List<String> l) { return l.isEmpty() ? "-" : l.getFirst(); }

    /** Sets every third entry's value (all CPUs' copies) to zero; returns how many. */
    private static int zeroEveryThird(MapFd map) {
        MapInfo info = map.info();
        List<ByteBuffer> keys = new ArrayList<>();
        try (MapBatch batch = MapBatch.of(info, 256)) {
            boolean more = true;
            while (more) {
                more = map.lookupElements(batch);
                for (int i = 0; i < batch.size(); i++) {
                    ByteBuffer k = ByteBuffer.allocate(info.keySize());
                    k.put(batch.key(i)).flip();
                    keys.add(k);
                }
            }
        }
        ByteBuffer zero = ByteBuffer.allocate(info.userValueSize());
        int n = 0;
        for (int i = 0; i < keys.size(); i += 3, n++) map.update(keys.get(i), zero, MapFd.BPF_ANY);
        return n;
    }
}
