package io.bpfcharge.migrate;

import io.bpfcharge.oom.Reserve;

/**
 * What to migrate and where, resolved by the caller (the CLI from --map and --to-cgroup/--to-pid, the hook and
 * the agent from their scan and the container's process; {@link Requests} resolves user input).
 * @param mapId the map; a map an interrupted migration replaced is followed to its replacement
 * @param target the target memory cgroup's path, as /proc/PID/cgroup writes it
 * @param reserve the share of the target's memory limit that its processes must keep beside the BPF bytes a kill
 *                leaves there ({@link Plan} refuses a move that breaks it)
 */
public record MigrationRequest(int mapId, String target, Strategy strategy, Merge merge, boolean dryRun, Reserve reserve) {
    public MigrationRequest {
        if (target == null) throw new IllegalArgumentException("no target");
        if (strategy == null) strategy = Strategy.COPY_SWAP;
        if (merge == null) merge = Merge.OVERWRITE;
        if (reserve == null) reserve = Reserve.DEFAULT;
    }

    /** The defaults: copy-swap, overwrite, not a dry run, the default reserve. */
    public static MigrationRequest of(int mapId, String target) {
        return new MigrationRequest(mapId, target, null, null, false, null);
    }

    /** How readers and writers see the swap. */
    public enum Strategy {
        /** Copy first, swap the full copy in, then reconcile what programs wrote to the old map meanwhile. */
        COPY_SWAP,
        /** Swap the empty replacement in first, then backfill from the old map once no program can write it. */
        SWAP_BACKFILL;

        public String cliName() { return name().toLowerCase().replace('_', '-'); }
    }

    /** How a key that programs changed during the migration is settled. */
    public enum Merge {
        /** The old map's final value wins unless the key also changed in the new map. */
        OVERWRITE,
        /** Values are u64 counters: the old map's increments are added to the new map. */
        SUM;

        public String cliName() { return name().toLowerCase(); }
    }
}
