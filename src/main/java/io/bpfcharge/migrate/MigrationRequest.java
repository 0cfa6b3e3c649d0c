package io.bpfcharge.migrate;

/**
 * What to migrate and where: the same request from the CLI, a hook or the daemon.
 * @param map a bpffs pin path, or {@code id:N}
 * @param toCgroup the target memory cgroup (as /proc/PID/cgroup writes it, or its directory); null when toPid is set
 * @param toPid the target is this process's memory cgroup; null when toCgroup is set
 */
public record MigrationRequest(String map, String toCgroup, Long toPid, Strategy strategy, Merge merge, boolean dryRun) {
    public MigrationRequest {
        if ((toCgroup == null) == (toPid == null)) throw new IllegalArgumentException("exactly one of toCgroup, toPid");
        if (strategy == null) strategy = Strategy.COPY_SWAP;
        if (merge == null) merge = Merge.OVERWRITE;
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
