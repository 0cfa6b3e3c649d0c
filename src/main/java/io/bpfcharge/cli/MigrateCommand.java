package io.bpfcharge.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.migrate.MigrationRequest;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Migrator;
import io.bpfcharge.migrate.Plan;
import io.bpfcharge.migrate.Requests;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

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

    @Option(names = "--dry-run", description = "Print the plan; change nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Override
    public Integer call() {
        Checks.requireAll();
        MemoryHierarchy h = MemoryHierarchy.detect();
        String to = target.pid != null ? Requests.cgroupOfPid(h, target.pid) : Requests.cgroup(h, target.cgroup);
        MigrationRequest req = new MigrationRequest(Requests.mapId(map), to, strategy, merge, dryRun);
        boolean tty = System.console() != null && !json;
        MigrationResult r;
        try (Inventory inventory = new Inventory(h)) {
            r = new Migrator(inventory, tty ? new TerminalProgress() : Migrator.Progress.NONE).migrate(req);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) Json.print(out, json(r));
        else human(out, r);
        return 0;
    }

    private static void human(PrintWriter out, MigrationResult r) {
        r.recovered().forEach(out::println);
        switch (r.plan()) {
            case Plan.Noop n -> out.println(n.message());
            case Plan.Move m when r.result() == MigrationResult.Result.DRY_RUN -> {
                out.printf("would migrate map %d (%s, %s) from %s to %s%n", r.oldId(), m.info().name(), m.info().type(),
                        r.source(), r.target());
                out.printf("  as:         %s, %s, merge %s%n", m.kind() == Plan.Kind.INNER ? "inner map (swap slots)"
                        : "standalone (replace pins)", m.strategy().cliName(), m.merge().cliName());
                out.printf("  attributes: key %d, value %d, max_entries %d, flags 0x%x, btf %d%n", m.info().keySize(),
                        m.info().valueSize(), m.info().maxEntries(), m.info().flags(), m.info().btfId());
                out.printf("  slots:      %s%n", m.slots().isEmpty() ? "-" : m.slots().stream()
                        .map(s -> s.outerId() + "[" + s.key() + "]").collect(Collectors.joining(", ")));
                out.printf("  pins:       %s%n", m.pins().isEmpty() ? "-" : String.join(", ", m.pins()));
                out.printf("  bytes:      %s, headroom in target: %s%n", Table.bytes(m.bytes()),
                        m.headroom().isPresent() ? Table.bytes(m.headroom().getAsLong()) : "unlimited");
            }
            default -> {
                out.printf("migrated map %d -> %d (%d entries, %s) from %s to %s%n", r.oldId(), r.newId(), r.settled().entries(),
                        Table.bytes(r.bytes()), r.source(), r.target());
                out.printf("  %s: %s -> %s%n", r.source(), size(r.usage().sourceBefore()), size(r.usage().sourceAfter()));
                out.printf("  %s: %s -> %s%n", r.target(), size(r.usage().targetBefore()), size(r.usage().targetAfter()));
                if (!r.oldFreed()) out.println("  note: the old map was not freed yet; its memcg is uncharged when the kernel frees it");
                out.println("  " + r.phases().entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue().toMillis() + " ms").collect(Collectors.joining(", ")));
            }
        }
        out.flush();
    }

    private static String size(OptionalLong v) { return v.isEmpty() ? "-" : Table.bytes(v.getAsLong()); }

    static ObjectNode json(MigrationResult r) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("result", r.result().jsonName()).put("old_map_id", r.oldId()).put("new_map_id", r.newId())
                .put("source_cgroup", r.source()).put("target_cgroup", r.target()).put("entries", r.settled().entries())
                .put("bytes", r.bytes()).put("merged_keys", r.settled().mergedKeys()).put("old_freed", r.oldFreed());
        if (r.plan() instanceof Plan.Move m) {
            ObjectNode p = n.putObject("plan");
            p.put("kind", m.kind().name().toLowerCase()).put("strategy", m.strategy().cliName()).put("merge", m.merge().cliName())
                    .put("type", m.info().type().name()).put("key_size", m.info().keySize()).put("value_size", m.info().valueSize())
                    .put("max_entries", m.info().maxEntries()).put("flags", m.info().flags());
            var slots = p.putArray("slots");
            m.slots().forEach(s -> slots.addObject().put("outer_id", s.outerId()).put("key", s.key()));
            var pins = p.putArray("pins");
            m.pins().forEach(pins::add);
            if (m.headroom().isPresent()) p.put("headroom_bytes", m.headroom().getAsLong());
            else p.putNull("headroom_bytes");
        }
        ObjectNode ph = n.putObject("phases_ms");
        r.phases().forEach((k, v) -> ph.put(k, v.toNanos() / 1e6));
        ObjectNode u = n.putObject("usage_bytes");
        if (r.result() == MigrationResult.Result.OK) {
            usage(u, "source_before", r.usage().sourceBefore());
            usage(u, "target_before", r.usage().targetBefore());
            usage(u, "source_after", r.usage().sourceAfter());
            usage(u, "target_after", r.usage().targetAfter());
        }
        var rec = n.putArray("recovered");
        r.recovered().forEach(rec::add);
        return n;
    }

    private static void usage(ObjectNode u, String field, OptionalLong v) {
        if (v.isPresent()) u.put(field, v.getAsLong());
        else u.putNull(field);
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

    static final class MergeConverter implements picocli.CommandLine.ITypeConverter<MigrationRequest.Merge> {
        @Override
        public MigrationRequest.Merge convert(String s) {
            for (var v : MigrationRequest.Merge.values()) if (v.cliName().equals(s)) return v;
            throw new picocli.CommandLine.TypeConversionException("expected overwrite or sum, not " + s);
        }
    }
}
