package io.bpfcharge.migrate;

import io.bpfcharge.Mappers;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@link RunDir#history()}: one JSON line per finished migration attempt,
 * {"time":ISO-8601,"result":"migrated|unchanged|refused|failed|rolled_back","old_map_id":N,"new_map_id":N,"bytes":N,"from":"/cg","to":"/cg"}.
 * The metrics daemon counts migrations and migrated bytes from it.
 */
public final class MigrationHistory {

    /** The results an attempt can end with ({@link Result}'s others belong to dry runs, the hook and the agent). */
    public static final Set<Result> RESULTS = Collections.unmodifiableSet(
            EnumSet.of(Result.MIGRATED, Result.UNCHANGED, Result.REFUSED, Result.FAILED, Result.ROLLED_BACK));

    private MigrationHistory() {}

    static void record(RunDir run, Result result, int oldId, int newId, long bytes, String from, String to) {
        append(run.history(), new MigrationEvent(Instant.now(), result, oldId, newId, bytes, from, to));
    }

    /** An attempt journaled as {@code e}: its maps, size and cgroups. */
    static void record(RunDir run, Result result, Journal.Entry e) {
        record(run, result, e.oldId(), e.newId(), e.bytes(), e.source(), e.target());
    }

    private static void append(Path file, MigrationEvent e) {
        ObjectNode n = Mappers.JSON.createObjectNode().put("time", e.time().toString()).put("result", e.result().jsonName())
                .put("old_map_id", e.oldMapId()).put("new_map_id", e.newMapId()).put("bytes", e.bytes())
                .put("from", e.from()).put("to", e.to());
        try {
            Files.createDirectories(file.getParent());
            // One write(2) of a whole line with O_APPEND: concurrent writers never interleave lines.
            Files.write(file, (n + "\n").getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IOException ex) {
            System.err.println("bpfcharge: cannot append to " + file + ": " + ex.getMessage());
        }
    }

    /** Every event in a log file, oldest first; a missing file is an empty log, a torn last line is skipped. */
    public static List<MigrationEvent> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        List<MigrationEvent> events = new ArrayList<>(lines.size());
        for (String line : lines) {
            if (line.isBlank()) continue;
            try {
                var n = Mappers.JSON.readTree(line);
                var result = Result.of(n.path("result").asText()).filter(RESULTS::contains);
                if (result.isEmpty()) continue; // cut short by a crash mid-write, or a newer version's result
                events.add(new MigrationEvent(Instant.parse(n.path("time").asText()), result.get(),
                        n.path("old_map_id").asInt(), n.path("new_map_id").asInt(), n.path("bytes").asLong(),
                        n.path("from").asText(), n.path("to").asText()));
            } catch (IOException | RuntimeException e) {
                // a line cut short by a crash mid-write
            }
        }
        return events;
    }
}
