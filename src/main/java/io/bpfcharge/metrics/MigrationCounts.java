package io.bpfcharge.metrics;

import io.bpfcharge.migrate.Result;
import io.bpfcharge.migrate.MigrationEvent;
import io.bpfcharge.migrate.MigrationHistory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Counts the migrations every bpfcharge process on the node made (CLI, hook, daemon) from the
 * migration log ({@link MigrationHistory}, one JSON line per finished migration). The log is read again
 * only when it changed; a log that shrank or was replaced shows as a counter reset.
 */
final class MigrationCounts {
    /** Migrations per result (every result, 0 until it happens), and the bytes moved by successful ones. */
    record Totals(Map<Result, Long> byResult, long movedBytes) {}

    private final Path file;
    private List<Object> seen = List.of(); // file key, size, mtime of the log the totals come from
    private Totals totals = count(List.of());

    MigrationCounts(Path file) { this.file = file; }

    synchronized Totals read() {
        List<Object> now;
        try {
            BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
            now = List.of(String.valueOf(a.fileKey()), a.size(), a.lastModifiedTime());
        } catch (NoSuchFileException e) {
            now = List.of();
        } catch (IOException e) {
            return totals; // unreadable now: keep what was counted
        }
        if (!now.equals(seen)) {
            try {
                totals = count(now.isEmpty() ? List.of() : MigrationHistory.read(file));
                seen = now;
            } catch (UncheckedIOException e) {
                return totals;
            }
        }
        return totals;
    }

    private static Totals count(List<MigrationEvent> events) {
        Map<Result, Long> counts = new EnumMap<>(Result.class);
        for (Result r : MigrationHistory.RESULTS) counts.put(r, 0L);
        long bytes = 0;
        for (MigrationEvent e : events) {
            counts.merge(e.result(), 1L, Long::sum);
            if (e.result() == Result.MIGRATED) bytes += e.bytes();
        }
        return new Totals(Collections.unmodifiableMap(counts), bytes);
    }
}
