package io.bpfcharge.cli;

import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.migrate.MigrationRequest;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Migrator;
import io.bpfcharge.migrate.Requests;
import io.bpfcharge.oom.Reserve;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

@Command(name = "migrate", description = {
        "Moves a map's memory charge to another memory cgroup: creates a twin inside the target, copies, swaps it",
        "into every map-of-maps slot (or re-pins it over every pin), then frees the old map. Interrupted runs are",
        "finished or undone by the next run. Refuses maps that loaded programs or processes use directly."})
final class MigrateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--map", required = true, paramLabel = "PIN|id:N", description = "The map: its bpffs pin path or id:N.")
    String map;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--to-cgroup", paramLabel = "PATH", description = "Target memory cgroup (as /proc/PID/cgroup writes it, or its directory).")
        String cgroup;

        @Option(names = "--to-pid", paramLabel = "PID", description = "Target: the memory cgroup of this process.")
        Long pid;
    }

    @Option(names = "--strategy", paramLabel = "copy-swap|swap-backfill", defaultValue = "copy-swap",
            converter = StrategyConverter.class,
            description = "copy-swap (default): readers always see complete data; swap-backfill: swap the empty twin in first, then backfill.")
    MigrationRequest.Strategy strategy;

    @Option(names = "--merge", paramLabel = "overwrite|sum", defaultValue = "overwrite", converter = MergeConverter.class,
            description = "Keys programs change during the migration: overwrite (old map's value wins unless the new map changed too) or sum (u64 counters).")
    MigrationRequest.Merge merge;

    @Option(names = "--reserve", paramLabel = "PERCENT", defaultValue = "25", converter = ReserveConverter.class,
            description = "Refuse (exit 7) a move that leaves the target's processes less than this share of its memory limit "
                    + "beside the BPF bytes no OOM kill frees there (default: ${DEFAULT-VALUE}; 0: no check).")
    Reserve reserve;

    @Option(names = "--dry-run", description = "Print the plan; change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Override
    public Integer call() {
        Checks.requireAll();
        MemoryHierarchy h = MemoryHierarchy.detect();
        String to = target.pid != null ? Requests.cgroupOfPid(h, target.pid) : Requests.cgroup(h, target.cgroup);
        MigrationRequest req = new MigrationRequest(Requests.mapId(map), to, strategy, merge, dryRun, reserve);
        boolean tty = System.console() != null && !json;
        MigrationResult r;
        try (Inventory inventory = new Inventory(h)) {
            r = new Migrator(inventory, tty ? new TerminalProgress() : Migrator.Progress.NONE, Environment.run()).migrate(req);
        }
        new MigrationPrinter().print(spec.commandLine().getOut(), json, r);
        MigrationPrinter.emptyTarget(r, h.populated(r.target())).ifPresent(w -> spec.commandLine().getErr().println("bpfcharge: " + w));
        spec.commandLine().getErr().flush();
        return 0;
    }

    /** Copy progress on stderr, redrawn at most every 200 ms, only for copies long enough to watch. */
    private static final class TerminalProgress implements Migrator.Progress {
        private final long start = System.nanoTime();
        private long last;

        @Override
        public void copied(long entries, long expected) {
            long now = System.nanoTime();
            if (now - start < 500_000_000L || now - last < 200_000_000L) return;
            last = now;
            System.err.print("\rcopied " + entries + (expected > 0 ? " of " + expected : "") + " entries");
            System.err.flush();
        }
    }

    static final class StrategyConverter implements picocli.CommandLine.ITypeConverter<MigrationRequest.Strategy> {
        @Override
        public MigrationRequest.Strategy convert(String s) {
            for (var v : MigrationRequest.Strategy.values()) if (v.cliName().equals(s)) return v;
            throw new picocli.CommandLine.TypeConversionException("expected copy-swap or swap-backfill, not " + s);
        }
    }

    /** A whole percentage, 0 to 100. */
    static final class ReserveConverter implements picocli.CommandLine.ITypeConverter<Reserve> {
        @Override
        public Reserve convert(String s) {
            try {
                return new Reserve(Integer.parseInt(s));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("expected a percentage from 0 to 100, not " + s);
            }
        }
    }

    static final class MergeConverter implements picocli.CommandLine.ITypeConverter<MigrationRequest.Merge> {
        @Override
        public MigrationRequest.Merge convert(String s) {
            for (var v : MigrationRequest.Merge.values()) if (v.cliName().equals(s)) return v;
            throw new picocli.CommandLine.TypeConversionException("expected overwrite or sum, not " + s);
        }
    }
}
