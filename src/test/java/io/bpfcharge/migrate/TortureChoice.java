package io.bpfcharge.migrate;

import io.bpfcharge.migrate.MigrationRequest.Merge;
import io.bpfcharge.migrate.MigrationRequest.Strategy;

import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * What one iteration of {@link MigrationTorture} does, drawn from its own seed: the map, how it is migrated, who
 * writes meanwhile, and what is killed.
 * @param prefill entries written before the migration (keys 0 to prefill - 1)
 * @param zeroKeys every third prefilled value is 0: data that must survive like any other
 * @param holderMs how long {@link Writer#HOLDER} keeps the fd it opened before the migration
 * @param openerStep where {@link Writer#OPENER} opens the map (BPFCHARGE_PAUSE_AT)
 * @param openerById it opens the old map by id, else the pin
 * @param faultStep where the fault strikes (a crash point of {@link Crash})
 */
record TortureChoice(Family family, Strategy strategy, Merge merge, int prefill, boolean zeroKeys,
                     EnumSet<Writer> writers, long holderMs, String openerStep, boolean openerById, long openerHoldMs,
                     Fault fault, String faultStep) {

    /** The map migrated: a standalone map of a type, or the inner (hash) map of a map-of-maps slot. */
    enum Family {
        HASH("hash", null, 32_768), PERCPU_HASH("percpu_hash", null, 32_768),
        /** Well above what is written: an LRU map may evict before it is full (per-CPU free lists). */
        LRU_HASH("lru_hash", null, 65_536),
        LPM_TRIE("lpm_trie", null, 32_768), ARRAY("array", null, 28_672),
        INNER_OF_ARRAY_OF_MAPS("hash", "array_of_maps", 32_768), INNER_OF_HASH_OF_MAPS("hash", "hash_of_maps", 32_768);

        final String type, outer;
        final int maxEntries;

        Family(String type, String outer, int maxEntries) {
            this.type = type;
            this.outer = outer;
            this.maxEntries = maxEntries;
        }

        boolean inner() { return outer != null; }
    }

    /** Who writes the map during the migration. */
    enum Writer {
        /** Opens the pin for each write (PinWriter). */
        PIN,
        /** Opened the pin before the migration and keeps that fd for holderMs, then writes through the pin. */
        HOLDER,
        /** Opens the map (pin or id) at openerStep and keeps writing through that fd for openerHoldMs. */
        OPENER,
        /** A BPF program (test_counter) run through the outer map's slot: only for the inner of an array_of_maps, sum. */
        PROGRAM
    }

    enum Fault {
        NONE,
        /** kill -9 of bpfcharge at faultStep (or, while OPENER uses the pause, the injected halt there). */
        KILL_BPFCHARGE,
        /** kill -9 of its create helper at faultStep. */
        KILL_HELPER
    }

    /** Crash points of bpfcharge itself; some are reached only by some runs (reconcile: a key to settle; unswapped: a rollback). */
    static final List<String> STEPS = List.of("journal", "created", "copy", "copied", "swap", "swapped", "reconcile",
            "reconciled", "unswapped");
    static final List<String> HELPER_STEPS = List.of("helper", "helper_pinned");
    private static final int[] PREFILLS = {0, 100, 1000, 4000};
    /** The program's inner map template (test_counter.bpf.c) has 64 entries. */
    static final int PROGRAM_INNER_ENTRIES = 64;

    static TortureChoice pick(Random r) {
        Family family = pickOf(r, Family.values());
        Strategy strategy = pickOf(r, Strategy.values());
        Merge merge = pickOf(r, Merge.values());
        EnumSet<Writer> writers = EnumSet.noneOf(Writer.class);
        for (Writer w : List.of(Writer.PIN, Writer.HOLDER, Writer.OPENER)) if (r.nextBoolean()) writers.add(w);
        if (family == Family.INNER_OF_ARRAY_OF_MAPS && merge == Merge.SUM && r.nextBoolean()) writers.add(Writer.PROGRAM);
        // Counters are u64 words of 4-byte keys; an LPM trie with sum is refused by the plan, and nothing can write it so.
        if (family == Family.LPM_TRIE && merge == Merge.SUM) writers.clear();
        boolean zeroKeys = r.nextBoolean();
        int prefill = PREFILLS[r.nextInt(PREFILLS.length)];
        if (zeroKeys && prefill == 0) prefill = PREFILLS[1];
        if (writers.contains(Writer.PROGRAM)) prefill = Math.min(prefill, PROGRAM_INNER_ENTRIES - 24);
        // Most holders close within the plan's wait for holders (1 s); the last keeps its fd: refused.
        long holderMs = List.of(100L, 300L, 700L, 3000L).get(r.nextInt(4));
        String openerStep = STEPS.get(r.nextInt(STEPS.size() - 1)); // not unswapped: it would need a second holder
        boolean openerById = r.nextBoolean();
        // One that opens the old map by id and closes it between two of bpfcharge's looks is the documented limit
        // (docs/migration.md, "Writers and openers: limits"): by id, the opener keeps its fd past the wait.
        long openerHoldMs = r.nextBoolean() && !openerById ? 300 : 2500;
        int f = r.nextInt(20);
        Fault fault = f < 10 ? Fault.NONE : f < 17 || writers.contains(Writer.OPENER) ? Fault.KILL_BPFCHARGE : Fault.KILL_HELPER;
        String faultStep = switch (fault) {
            case NONE -> null;
            case KILL_BPFCHARGE -> STEPS.get(r.nextInt(STEPS.size()));
            case KILL_HELPER -> HELPER_STEPS.get(r.nextInt(HELPER_STEPS.size()));
        };
        return new TortureChoice(family, strategy, merge, prefill, zeroKeys, writers, holderMs, openerStep, openerById,
                openerHoldMs, fault, faultStep);
    }

    private static <T> T pickOf(Random r, T[] values) { return values[r.nextInt(values.length)]; }

    /** The counters a writer adds to (merge sum), or keys it inserts (overwrite). */
    boolean counting() { return merge == Merge.SUM; }

    /** One line: what a failure report and a replay show. */
    String describe() {
        String w = writers.stream().map(x -> switch (x) {
            case PIN -> "pin";
            case HOLDER -> "holder(" + holderMs + "ms)";
            case OPENER -> "opener(" + (openerById ? "id" : "pin") + "@" + openerStep + "," + openerHoldMs + "ms)";
            case PROGRAM -> "program";
        }).collect(Collectors.joining(","));
        return family.name().toLowerCase() + " " + strategy.cliName() + "/" + merge.cliName() + " prefill=" + prefill
                + (zeroKeys ? " zero-keys" : "") + " writers=[" + w + "] fault="
                + (fault == Fault.NONE ? "none" : fault.name().toLowerCase().replace('_', '-') + "@" + faultStep);
    }
}
