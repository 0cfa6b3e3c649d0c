package io.bpfcharge.provenance;

import io.bpfcharge.inventory.Origin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

class OriginStoreTest {
    @TempDir
    Path dir;

    /** Written as the agent's save() does: a temporary file renamed over the old one. */
    private void save(Path file, int id, String path) throws IOException {
        Path tmp = file.resolveSibling("origins.json.tmp");
        Files.writeString(tmp, "{\"version\":1,\"maps\":{\"" + id + "\":{\"memcg_id\":7,\"path\":\"" + path + "\",\"container\":null}}}");
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aReaderSeesASaveThatLandsInTheSameClockTickAsTheOneBefore() throws IOException {
        Path file = dir.resolve("origins.json");
        Supplier<Map<Integer, Origin>> reader = OriginStore.reader(file);
        assertEquals(Map.of(), reader.get(), "no file yet");
        save(file, 1, "/pod/a");
        FileTime first = Files.getLastModifiedTime(file);
        assertEquals(Map.of(1, new Origin(7, "/pod/a", null)), reader.get());
        save(file, 2, "/pod/b");
        Files.setLastModifiedTime(file, first); // a coarse file system clock: both saves in one tick
        assertEquals(Map.of(2, new Origin(7, "/pod/b", null)), reader.get());
        Files.delete(file);
        assertEquals(Map.of(), reader.get(), "the file is gone");
    }

    /** The file is parsed streamed: fields of a later version are skipped at every level, whatever they hold. */
    @Test
    void aLaterVersionsFieldsAreSkippedAndABrokenFileIsEmpty() throws IOException {
        Path file = dir.resolve("origins.json");
        Files.writeString(file, "{\"version\":2,\"written_by\":{\"host\":[\"a\",{\"b\":1}]},\"maps\":{"
                + "\"3\":{\"memcg_id\":9,\"qos\":{\"class\":\"burst\"},\"path\":\"/pod/caf\\u00e9\",\"container\":\"c1\"},"
                + "\"4\":{\"path\":\"/pod/b\",\"memcg_id\":5,\"container\":null,\"tags\":[1,[2]]}},\"after\":true}");
        assertEquals(Map.of(3, new Origin(9, "/pod/caf\u00e9", "c1"), 4, new Origin(5, "/pod/b", null)),
                OriginStore.open(file).all());
        Files.writeString(file, "{\"version\":1,\"maps\":{\"3\":{\"memcg_id\":9,");
        assertEquals(Map.of(), OriginStore.open(file).all(), "a truncated file is an empty store");
    }
}
