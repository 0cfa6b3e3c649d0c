package io.bpfcharge.metrics;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

import static io.bpfcharge.migrate.Result.FAILED;
import static io.bpfcharge.migrate.Result.MIGRATED;
import static io.bpfcharge.migrate.Result.REFUSED;
import static io.bpfcharge.migrate.Result.ROLLED_BACK;
import static io.bpfcharge.migrate.Result.UNCHANGED;
import static org.junit.jupiter.api.Assertions.assertEquals;

class MigrationCountsTest {
    @TempDir Path dir;

    static String line(String result, long bytes) {
        return "{\"time\":\"2025-01-01T00:00:00Z\",\"result\":\"" + result + "\",\"old_map_id\":1,\"new_map_id\":2,\"bytes\":"
                + bytes + ",\"from\":\"/a\",\"to\":\"/b\"}\n";
    }

    void append(Path f, String s) throws IOException {
        Files.writeString(f, s, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void countsResultsAndMovedBytesIncrementally() throws IOException {
        Path f = dir.resolve("migrations.jsonl");
        MigrationCounts j = new MigrationCounts(f);
        var none = j.read();
        assertEquals(0L, none.byResult().get(MIGRATED));
        assertEquals(List.of(MIGRATED, UNCHANGED, REFUSED, FAILED, ROLLED_BACK), none.byResult().keySet().stream().toList());

        // "ok": a line a version before the one vocabulary wrote (a node upgraded without a reboot)
        append(f, line("migrated", 1000) + line("refused", 0) + "not json\n" + line("ok", 24) + line("dry_run", 5));
        var t = j.read();
        assertEquals(2L, t.byResult().get(MIGRATED));
        assertEquals(1L, t.byResult().get(REFUSED));
        assertEquals(1024, t.movedBytes());

        String half = line("rolled_back", 500);
        append(f, half.substring(0, 20)); // a writer mid-line: not counted yet
        assertEquals(0L, j.read().byResult().get(ROLLED_BACK));
        append(f, half.substring(20));
        t = j.read();
        assertEquals(1L, t.byResult().get(ROLLED_BACK));
        assertEquals(1024, t.movedBytes(), "only successful migrations move bytes");
    }

    @Test
    void aReplacedOrTruncatedJournalIsCountedAfresh() throws IOException {
        Path f = dir.resolve("migrations.jsonl");
        append(f, line("migrated", 10) + line("migrated", 10));
        MigrationCounts j = new MigrationCounts(f);
        assertEquals(2L, j.read().byResult().get(MIGRATED));
        Files.writeString(f, line("failed", 0)); // truncated and rewritten, shorter
        var t = j.read();
        assertEquals(0L, t.byResult().get(MIGRATED));
        assertEquals(1L, t.byResult().get(FAILED));
        Files.delete(f);
        assertEquals(0L, j.read().byResult().get(FAILED));
    }
}
