package io.bpfcharge.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts the migrations every bpfcharge process on the node made (CLI, hook, daemon) from the
 * migration journal, one JSON line per finished migration. Reads only what was appended since the
 * last call; a journal that shrank or was replaced is counted again from its start (a counter reset).
 */
final class MigrationJournal {
    /** Every result the journal writes; each is exported, with 0 until it happens. */
    static final List<String> RESULTS = List.of("ok", "noop", "refused", "failed", "rolled_back");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Migrations per result, and the bytes moved by successful ones. */
    record Totals(Map<String, Long> byResult, long movedBytes) {}

    private final Path file;
    private Object fileKey;
    private long offset;
    private final Map<String, Long> counts = new LinkedHashMap<>();
    private long bytes;

    MigrationJournal(Path file) {
        this.file = file;
        reset();
    }

    /** The default journal: $BPFCHARGE_RUN_DIR/migrations.jsonl, else /run/bpfcharge/migrations.jsonl. */
    static Path defaultPath() {
        String dir = System.getenv("BPFCHARGE_RUN_DIR");
        return Path.of(dir == null || dir.isEmpty() ? "/run/bpfcharge" : dir, "migrations.jsonl");
    }

    synchronized Totals read() {
        try {
            Object key = Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
            long size = Files.size(file);
            if (!key.equals(fileKey) || size < offset) {
                reset();
                fileKey = key;
            }
            if (size > offset) consume(size);
        } catch (NoSuchFileException e) {
            if (fileKey != null) reset(); // removed: nothing has been migrated since
        } catch (IOException e) {
            // unreadable now: keep the totals counted so far
        }
        return new Totals(Collections.unmodifiableMap(new LinkedHashMap<>(counts)), bytes);
    }

    private void consume(long size) throws IOException {
        byte[] buf;
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            f.seek(offset);
            buf = new byte[(int) Math.min(size - offset, Integer.MAX_VALUE - 8)];
            f.readFully(buf);
        }
        int start = 0;
        for (int i = 0; i < buf.length; i++) {
            if (buf[i] != '\n') continue;
            count(new String(buf, start, i - start, StandardCharsets.UTF_8));
            start = i + 1;
        }
        offset += start; // a line still being written is read next time, whole
    }

    private void count(String line) {
        if (line.isBlank()) return;
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (IOException e) {
            return; // not a journal line: skip it rather than lose the rest
        }
        String result = n.path("result").asText("");
        if (result.isEmpty()) return;
        counts.merge(result, 1L, Long::sum);
        if (result.equals("ok")) bytes += n.path("bytes").asLong(0);
    }

    private void reset() {
        fileKey = null;
        offset = 0;
        bytes = 0;
        counts.clear();
        RESULTS.forEach(r -> counts.put(r, 0L));
    }
}
