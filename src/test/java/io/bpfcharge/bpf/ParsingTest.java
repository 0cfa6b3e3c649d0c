package io.bpfcharge.bpf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Decoding of what the kernel writes: fdinfo text, iterator records, map type numbers. */
class ParsingTest {
    @Test
    void fdinfoOfAMap() {
        FdInfo fi = FdInfo.parse("pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1057\nmap_type:\t1\nkey_size:\t8\n"
                + "value_size:\t64\nmax_entries:\t200000\nmap_flags:\t0x0\nmap_extra:\t0x0\nmemlock:\t28881856\n"
                + "map_id:\t42\nfrozen:\t0\n");
        assertEquals(new FdInfo(42, 28881856), fi);
        assertNull(FdInfo.parse("pos:\t0\nflags:\t02\n"), "not a map fd");
    }

    @Test
    void iteratorRecords() {
        ByteBuffer b = ByteBuffer.allocate(5 * Structs.MapRecord.SIZE).order(ByteOrder.nativeOrder());
        MapInfo counts = new MapInfo(7, MapType.LRU_HASH, "counts", 4, 16, 1024, 0x20, 0, 12, 3, 5, 0, 0);
        record(b, counts, 3, 2774, 35, "ctr-a");
        record(b, new MapInfo(8, MapType.BLOOM_FILTER, "seen", 0, 8, 100, 0, 5, 0, 0, 0, 0, 0), 3, 2774, 35, "ctr-a");
        record(b, new MapInfo(9, MapType.ARRAY, "", 4, 8, 1, 0, 0, 0, 0, 0, 0, 0), 0, 0, 0, "");
        MapInfo arena = new MapInfo(10, MapType.ARENA, "heap", 0, 0, 4096, 0x400, 0, 0, 0, 0, 0, 0);
        arenaPages(record(b, arena, 3 | Structs.MapRecord.MAP_ARENA_PAGES, 2774, 35, "ctr-a"), b, 2048);
        arenaPages(record(b, new MapInfo(11, MapType.ARENA, "old", 0, 0, 16, 0x400, 0, 0, 0, 0, 0, 0), 3, 2774, 35, "ctr-a"), b, 0);
        Map<Integer, MapCharge> m = InventoryIterators.parseMaps(b.array());
        assertEquals(new MapCharge(counts, true, true, 2774, 35, "ctr-a", OptionalLong.empty()), m.get(7));
        assertEquals(OptionalLong.of(2048), m.get(10).arenaPages());
        assertEquals(OptionalLong.of(2048 * Libc.PAGE_SIZE), m.get(10).arenaBytes());
        assertEquals(OptionalLong.empty(), m.get(11).arenaPages(), "not counted: no range tree on that kernel");
        assertEquals(5, m.get(8).info().mapExtra());
        assertFalse(m.get(9).charged());
        assertEquals("", m.get(9).info().name());
    }

    private static void arenaPages(int at, ByteBuffer b, long pages) {
        b.putLong(at + Structs.MapRecord.ARENA_PAGES, pages);
    }

    /** Writes one struct map_record of bpf/inventory.h; returns where it starts. */
    private static int record(ByteBuffer b, MapInfo i, int flags, long cg, long parent, String cgroupName) {
        int at = b.position();
        b.putInt(i.id()).putInt(flags).putLong(cg).putLong(parent).putInt(i.type().value()).putInt(i.keySize())
                .putInt(i.valueSize()).putInt(i.maxEntries()).putInt(i.flags()).putInt(i.btfId()).putInt(i.btfKeyTypeId())
                .putInt(i.btfValueTypeId()).putInt(i.btfVmlinuxValueTypeId()).putInt(0).putLong(i.mapExtra())
                .put(i.name().getBytes(StandardCharsets.UTF_8));
        b.position(at + Structs.MapRecord.CGROUP_NAME);
        b.put(cgroupName.getBytes(StandardCharsets.UTF_8));
        b.position(at + Structs.MapRecord.SIZE);
        return at;
    }

    @Test
    void holderRecordsNameEachProcessOncePerMap() {
        ByteBuffer b = ByteBuffer.allocate(4 * Structs.HolderRecord.SIZE).order(ByteOrder.nativeOrder());
        holder(b, 100, 7, "agent");
        holder(b, 100, 7, "agent"); // a second fd on the same map
        holder(b, 100, 8, "agent");
        holder(b, 200, 7, "sixteen-chars-xx"); // comm fills all 16 bytes, no NUL
        Map<Integer, java.util.List<InventoryIterators.Holder>> h = InventoryIterators.parseHolders(b.array());
        assertEquals(java.util.List.of(new InventoryIterators.Holder(100, "agent"),
                new InventoryIterators.Holder(200, "sixteen-chars-xx")), h.get(7));
        assertEquals(java.util.List.of(new InventoryIterators.Holder(100, "agent")), h.get(8));
    }

    /** Writes one struct holder_record of bpf/inventory.h. */
    private static void holder(ByteBuffer b, int pid, int mapId, String comm) {
        int at = b.position();
        b.putInt(pid).putInt(mapId).put(comm.getBytes(StandardCharsets.UTF_8));
        b.position(at + Structs.HolderRecord.SIZE);
    }

    @Test
    void mapTypesKeepUnknownNumbers() {
        assertEquals("hash_of_maps", new MapType(13).name());
        assertEquals("type_99", new MapType(99).name());
        assertTrue(MapType.byName("lru_percpu_hash").isPerCpu());
        assertTrue(MapType.ARRAY_OF_MAPS.isMapOfMaps());
    }

    @Test
    void memlockIsFixedOnlyForMapsSizedAtCreation() {
        assertTrue(MapType.ARRAY.memlockFixed(0));
        assertTrue(MapType.HASH.memlockFixed(0), "preallocated");
        assertFalse(MapType.HASH.memlockFixed(1), "BPF_F_NO_PREALLOC: grows with its elements since 6.4");
        assertTrue(MapType.LRU_PERCPU_HASH.memlockFixed(0));
        assertFalse(MapType.LPM_TRIE.memlockFixed(1));
        assertFalse(MapType.byName("sk_storage").memlockFixed(1));
        assertFalse(new MapType(99).memlockFixed(0), "a type newer than this build");
    }

    @Test
    void errnoNames() {
        BpfException e = new BpfException("open map id 3", Errno.ENOENT);
        assertEquals("open map id 3: ENOENT", e.getMessage());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("errno 200", Errno.name(200));
    }
}
