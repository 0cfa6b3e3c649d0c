package io.bpfcharge.bpf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The targeted read of one map's reference counts against the kernel's own: as fds (opened files, not dups)
 * and pins come and go, and as a map-in-map slot takes a reference that is not a user one; the iterator's walk
 * over every map must agree on the user count.
 */
class MapRefsIT {
    private static MapFd hash(String name) {
        return MapFd.create(new MapInfo(0, MapType.HASH, name, 4, 8, 4, 0, 0, 0, 0, 0, 0, 0), null, null);
    }

    @Test
    void countsFollowFdsPinsAndSlots() throws Exception {
        Path pin = Path.of("/sys/fs/bpf/bpfcharge-maprefs-" + ProcessHandle.current().pid());
        try (MapFd map = hash("refs_target"); MapRefs refs = MapRefs.load(map);
             InventoryIterators it = InventoryIterators.open()) {
            int id = map.info().id();
            assertCounts(refs, it, id, 1, 0);
            try (MapFd second = MapFd.byId(id)) {
                assertCounts(refs, it, id, 2, 0);
                map.pin(pin);
                assertCounts(refs, it, id, 3, 0);
            }
            assertCounts(refs, it, id, 2, 0);
            Files.delete(pin);
            assertCounts(refs, it, id, 1, 0);
            try (MapFd outer = MapFd.create(new MapInfo(0, MapType.ARRAY_OF_MAPS, "refs_outer", 4, 4, 1, 0, 0, 0, 0, 0, 0, 0), null, map)) {
                outer.setInnerMap(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, 0), map);
                assertCounts(refs, it, id, 1, 1); // the slot: a reference, not a user one
                outer.delete(ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, 0));
            }
            // A slot's reference goes after an RCU grace period: wait for it rather than a fixed time.
            for (long end = System.nanoTime() + 10_000_000_000L; refs.read().others() != 0 && System.nanoTime() < end; )
                Thread.sleep(1);
            assertCounts(refs, it, id, 1, 0);
            assertEquals(1, ProgFd.loaded().stream().filter(p -> p.mapIds().contains(id))
                    .filter(p -> p.id() == refs.programId()).count(), "the lookup's own program uses the map");
        } finally {
            Files.deleteIfExists(pin);
        }
    }

    /**
     * Every type a migration moves, LPM tries too: the program is not sleepable (a syscall program was, and the
     * verifier refused it an LPM trie on 6.1 and 6.18; Quiescence walked the iterator instead).
     */
    @Test
    void loadsAgainstEveryMigratedType() {
        int noPrealloc = 1;
        try (MapFd inner = hash("refs_inner")) {
            for (MapType type : new MapType[]{MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
                    MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS}) {
                boolean lpm = type.equals(MapType.LPM_TRIE), outer = type.isMapOfMaps();
                try (MapFd map = MapFd.create(new MapInfo(0, type, "refs_type", lpm ? 8 : 4, outer ? 4 : 8, 4,
                        lpm ? noPrealloc : 0, 0, 0, 0, 0, 0, 0), null, outer ? inner : null)) {
                    try (MapRefs refs = MapRefs.load(map)) {
                        assertEquals(new MapRefs.Counts(1, 2), refs.read(), type.toString());
                    }
                }
            }
        }
    }

    private static void assertCounts(MapRefs refs, InventoryIterators it, int id, long users, long others) {
        MapRefs.Counts c = refs.read();
        assertEquals(users, c.users(), "user references");
        assertEquals(it.users(id), c.users(), "the iterator's count");
        assertEquals(others, c.others(), "references that are not user ones, but the lookup's program");
    }
}
