package io.bpfcharge.cli;

import io.bpfcharge.migrate.Result;
import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Plan;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/** `migrate`: what was done (or would be, under --dry-run), with both memcgs' usage and the phases. */
final class MigrationPrinter implements Printer<MigrationResult> {
    @Override
    public void plain(PrintWriter out, MigrationResult r) {
        r.recovered().forEach(out::println);
        switch (r.plan()) {
            case Plan.Noop n -> out.println(n.message());
            case Plan.Move m when r.result() == Result.DRY_RUN -> {
                out.printf("would migrate map %d (%s, %s) from %s to %s%n", r.oldId(), m.info().name(), m.info().type(),
                        r.source(), r.target());
                out.printf("  as:         %s, %s, merge %s%n", m.kind() == Plan.Kind.INNER ? "inner map (swap slots)"
                        : "standalone (replace pins)", m.strategy().cliName(), m.merge().cliName());
                out.printf("  attributes: key %d, value %d, max_entries %d, flags 0x%x, btf %d%n", m.info().keySize(),
                        m.info().valueSize(), m.info().maxEntries(), m.info().flags(), m.info().btfId());
                out.printf("  slots:      %s%n", m.slots().isEmpty() ? "-" : m.slots().stream()
                        .map(MapsPrinter::slot).collect(Collectors.joining(", ")));
                out.printf("  pins:       %s%n", m.pins().isEmpty() ? "-" : String.join(", ", m.pins()));
                out.printf("  bytes:      %s, headroom in target: %s%n", Table.bytes(m.bytes()),
                        m.headroom().isPresent() ? Table.bytes(m.headroom().getAsLong()) : "unlimited");
            }
            default -> {
                out.printf("migrated map %d -> %d (%d entries, %s) from %s to %s%n", r.oldId(), r.newId(), r.settled().entries(),
                        Table.bytes(r.bytes()), r.source(), r.target());
                // A half-uncharged figure reads as if the map was not freed: say what is happening instead.
                out.printf("  %s: %s -> %s%n", r.source(), size(r.usage().sourceBefore()),
                        r.sourceStillReleasing() ? "still releasing" : size(r.usage().sourceAfter()));
                out.printf("  %s: %s -> %s%n", r.target(), size(r.usage().targetBefore()), size(r.usage().targetAfter()));
                if (!r.oldFreed()) out.println("  note: the old map was not freed yet; its memcg is uncharged when the kernel frees it");
                out.println("  " + r.phases().entrySet().stream()
                        .map(e -> e.getKey() + " " + e.getValue().toMillis() + " ms").collect(Collectors.joining(", ")));
            }
        }
    }

    /**
     * A warning for a map moved (or, under --dry-run, to be moved) into a cgroup with no tasks: `maps` shows it
     * stranded:empty at once, and no OOM kill frees it. The move may be meant (a container about to start).
     */
    static java.util.Optional<String> emptyTarget(MigrationResult r, boolean targetPopulated) {
        if (targetPopulated || !(r.plan() instanceof Plan.Move)) return java.util.Optional.empty();
        boolean dry = r.result() == Result.DRY_RUN;
        return java.util.Optional.of("warning: " + r.target() + " has no tasks: map " + (dry ? r.oldId() : r.newId())
                + (dry ? " would be" : " is") + " stranded there (empty) until a task joins it");
    }

    private static String size(OptionalLong v) { return v.isEmpty() ? "-" : Table.bytes(v.getAsLong()); }

    @Override
    public void json(JsonGenerator g, MigrationResult r) throws IOException {
        g.writeStartObject();
        g.writeStringField("result", r.result().jsonName());
        g.writeNumberField("old_map_id", r.oldId());
        g.writeNumberField("new_map_id", r.newId());
        g.writeStringField("source_cgroup", r.source());
        g.writeStringField("target_cgroup", r.target());
        g.writeNumberField("entries", r.settled().entries());
        g.writeNumberField("bytes", r.bytes());
        g.writeNumberField("merged_keys", r.settled().mergedKeys());
        g.writeBooleanField("old_freed", r.oldFreed());
        if (r.plan() instanceof Plan.Move m) {
            g.writeObjectFieldStart("plan");
            g.writeStringField("kind", m.kind().name().toLowerCase());
            g.writeStringField("strategy", m.strategy().cliName());
            g.writeStringField("merge", m.merge().cliName());
            g.writeStringField("type", m.info().type().name());
            g.writeNumberField("key_size", m.info().keySize());
            g.writeNumberField("value_size", m.info().valueSize());
            g.writeNumberField("max_entries", m.info().maxEntries());
            g.writeNumberField("flags", m.info().flags());
            Json.pairs(g, "slots", m.slots(), "outer_id", MapRecord.Slot::outerId, "key", MapRecord.Slot::key);
            g.writeArrayFieldStart("pins");
            for (String pin : m.pins()) g.writeString(pin);
            g.writeEndArray();
            Json.optional(g, "headroom_bytes", m.headroom());
            g.writeEndObject();
        }
        g.writeObjectFieldStart("phases_ms");
        for (var phase : r.phases().entrySet()) g.writeNumberField(phase.getKey(), phase.getValue().toNanos() / 1e6);
        g.writeEndObject();
        g.writeObjectFieldStart("usage_bytes");
        if (r.result() == Result.MIGRATED) {
            Json.optional(g, "source_before", r.usage().sourceBefore());
            Json.optional(g, "target_before", r.usage().targetBefore());
            Json.optional(g, "source_after", r.usage().sourceAfter());
            Json.optional(g, "target_after", r.usage().targetAfter());
        }
        g.writeEndObject();
        g.writeArrayFieldStart("recovered");
        for (String line : r.recovered()) g.writeString(line);
        g.writeEndArray();
        g.writeEndObject();
    }
}
