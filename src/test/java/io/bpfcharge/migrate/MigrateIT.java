package io.bpfcharge.migrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.MapMaker;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `bpfcharge migrate` end to end against the real kernel: maps made by a process in a source memcg,
 * migrated by the CLI, read back (contents, charge via the iterator, pins, slots, cgroup usage).
 */
class MigrateIT extends MigrationTestBase {
    private static final ObjectMapper JSON = new ObjectMapper();

    private long dstId;

    @BeforeAll
    void targetId() {
        dstId = cg.hierarchy().id(dst);
    }

    // Every map about 1 MB or more: the kernel keeps up to 64 pages of charge per CPU in a cache (memcg stock),
    // so freeing a smaller map may not lower the source's usage at all, and "source memcg uncharged" would flake.
    // A percpu_array's visible charge is its array of per-CPU pointers, 8 bytes an entry (its values hardly move
    // memory.current on 6.12, 7.2 or 6.18), so it gets 131,072 entries: 1 MB of pointers.
    // Half the types also in the v2 VM stage (one of each family: hash, per-CPU, LRU per-CPU, trie); each costs
    // most of a minute under emulation.
    @ParameterizedTest(name = "standalone {0}")
    @CsvSource({"hash,8,64,16384,0", "percpu_array,4,8,131072,0", "lru_percpu_hash,8,16,16384,0", "lpm_trie,8,16,16384,1"})
    void standaloneMapOfEveryTypeMovesWithAllItsData(String type, int ks, int vs, int max, int flags) throws Exception {
        standaloneMoves(type, ks, vs, max, flags);
    }

    @HostOnly
    @ParameterizedTest(name = "standalone {0}")
    @CsvSource({"array,4,64,16384,0", "percpu_hash,8,16,16384,0", "lru_hash,8,32,16384,0", "hash,8,8,16384,1"})
    void standaloneMapOfEveryOtherTypeMovesWithAllItsData(String type, int ks, int vs, int max, int flags) throws Exception {
        standaloneMoves(type, ks, vs, max, flags);
    }

    private void standaloneMoves(String type, int ks, int vs, int max, int flags) throws Exception {
        Path pin = cg.pin("st_" + type + flags);
        int oldId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec(type, ks, vs, max, "st").flags(flags).pin(pin))) {
            oldId = m.id(0);
        }
        Map<String, String> before;
        try (MapFd old = Kernel.open(pin)) {
            Kernel.fill(old, Math.min(max, type.contains("lru") ? max * 3 / 4 : max), 7);
            before = Kernel.dump(old);
        }
        long srcBefore = cg.usage(src);
        Cli.Result r = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", dst, "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = JSON.readTree(r.out());
        int newId = Kernel.idAt(pin);
        assertEquals("migrated", j.get("result").asText(), "the one vocabulary of results");
        assertEquals(newId, j.get("new_map_id").asInt());
        assertEquals(oldId, j.get("old_map_id").asInt());
        assertTrue(newId != oldId);
        assertTrue(Files.readString(runDir.resolve("migrations.jsonl")).contains("\"result\":\"migrated\",\"old_map_id\":" + oldId + ","),
                "the log spells the result as the JSON does");
        try (MapFd neu = Kernel.open(pin)) {
            assertEquals(before, Kernel.dump(neu), "contents");
            assertEquals(type, neu.info().type().name());
            assertEquals(max, neu.info().maxEntries());
            assertEquals(flags, neu.info().flags());
        }
        assertEquals(dstId, Kernel.chargedTo(newId), "charged to the target");
        assertFalse(Kernel.alive(oldId), "old map freed");
        assertTrue(j.get("old_freed").asBoolean());
        // The kernel uncharges after the id is gone (a work item frees the memory): a small map's is not waited for.
        Await.until("source memcg uncharged below " + srcBefore + " bytes", () -> cg.usage(src) < srcBefore);
        Files.delete(pin);
    }

    /**
     * The usage "after" is read once the old map's memory is really gone: the kernel frees a map after its id
     * (per-CPU memory in a work item), and a preallocated percpu_hash's source (17 MB charged at creation) used
     * to show its full usage after.
     */
    @Test
    void usageAfterIsReadOnceTheOldMapIsUncharged() throws Exception {
        Path pin = cg.pin("usage_after");
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("percpu_hash", 8, 16, 200_000, "usage").pin(pin))) {
            assertTrue(m.id(0) > 0);
        }
        Cli.Result r = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", dst, "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = JSON.readTree(r.out()), u = j.get("usage_bytes");
        long charge = u.get("target_after").asLong() - u.get("target_before").asLong();
        assertTrue(charge > 4 << 20, "the twin's charge is visible in the target: " + u);
        assertTrue(j.get("old_freed").asBoolean(), r.out());
        assertTrue(u.get("source_after").asLong() <= u.get("source_before").asLong() - charge / 2,
                "source usage after " + u + " still holds the map");
        Files.delete(pin);
    }

    @Test
    void innerMapIsSwappedIntoItsSlotAndRepinned() throws Exception {
        Path outerPin = cg.pin("outer"), innerPin = cg.pin("inner");
        int innerId, outerId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 4, 8, 1000, "inner").pin(innerPin),
                spec("hash_of_maps", 4, 4, 4, "outer").pin(outerPin).outerOfPrevious())) {
            innerId = m.id(0);
            outerId = m.id(1);
        }
        Map<String, String> before;
        try (MapFd inner = Kernel.open(innerPin)) {
            Kernel.fill(inner, 800, 3);
            before = Kernel.dump(inner);
        }
        Cli.Result r = Kernel.migrate(runDir, null, "--map", "id:" + innerId, "--to-cgroup", dst);
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().startsWith("migrated map " + innerId + " -> "), r.out());
        int newId = Kernel.idAt(innerPin);
        assertEquals(newId, slot0(outerPin), "the slot holds the replacement");
        try (MapFd neu = Kernel.open(innerPin)) {
            assertEquals(before, Kernel.dump(neu));
        }
        assertEquals(dstId, Kernel.chargedTo(newId));
        assertFalse(Kernel.alive(innerId));
        assertTrue(Kernel.alive(outerId));

        // Case 4: again is a no-op with exit 0, so hooks can rerun freely.
        // (Not --to-pid of this JVM: in the v2 VM it runs in the root cgroup, which is refused as a target.)
        Cli.Result again = Kernel.migrate(runDir, null, "--map", innerPin.toString(), "--to-cgroup", dst, "--dry-run");
        assertEquals(0, again.exit(), again.err());
        Cli.Result noop = Kernel.migrate(runDir, null, "--map", innerPin.toString(), "--to-cgroup", dst);
        assertEquals(0, noop.exit(), noop.err());
        assertTrue(noop.out().contains("already charged to " + dst), noop.out());
        assertEquals(newId, Kernel.idAt(innerPin));
        List<MigrationEvent> log = MigrationHistory.read(runDir.resolve("migrations.jsonl"));
        assertTrue(log.stream().anyMatch(e -> e.result() == Result.MIGRATED && e.oldMapId() == innerId && e.newMapId() == newId));
        assertEquals(Result.UNCHANGED, log.getLast().result());
        Files.delete(innerPin);
        Files.delete(outerPin);
    }

    @Test
    void outerMapItselfMovesWithItsInnerMaps() throws Exception {
        Path outerPin = cg.pin("outer2");
        int innerId;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("array", 4, 8, 10, "in2"),
                spec("array_of_maps", 4, 4, 4, "out2").pin(outerPin).outerOfPrevious())) {
            innerId = m.id(0);
        }
        Cli.Result r = Kernel.migrate(runDir, null, "--map", outerPin.toString(), "--to-cgroup", dst);
        assertEquals(0, r.exit(), r.err());
        assertEquals(innerId, slot0(outerPin), "the new outer map holds the same inner map");
        assertEquals(dstId, Kernel.chargedTo(Kernel.idAt(outerPin)));
        Files.delete(outerPin);
    }

    @Test
    void dryRunChangesNothing() throws Exception {
        Path pin = cg.pin("dry");
        int id;
        try (MapMaker.Maps m = MapMaker.run(cg, src, false, spec("hash", 8, 8, 100, "dry").pin(pin))) {
            id = m.id(0);
        }
        Cli.Result r = Kernel.migrate(runDir, null, "--map", pin.toString(), "--to-cgroup", dst, "--dry-run", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals("dry_run", j.get("result").asText());
        assertEquals("standalone", j.get("plan").get("kind").asText());
        assertEquals(pin.toString(), j.get("plan").get("pins").get(0).asText());
        assertEquals(id, Kernel.idAt(pin));
        assertEquals(cg.hierarchy().id(src), Kernel.chargedTo(id));
        Files.delete(pin);
    }

    static int slot0(Path outerPin) {
        try (MapFd outer = Kernel.open(outerPin)) {
            return outer.innerMapId(java.nio.ByteBuffer.allocate(4)).orElseThrow();
        }
    }
}
