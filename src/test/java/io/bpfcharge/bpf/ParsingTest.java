package io.bpfcharge.bpf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Map;

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
        ByteBuffer b = ByteBuffer.allocate(2 * MapCharge.RECORD).order(ByteOrder.nativeOrder());
        record(b, 7, 3, 2774, 35, "ctr-a");
        record(b, 9, 0, 0, 0, "");
        Map<Integer, MapCharge> m = MapMemcgIterator.parse(b.array());
        assertEquals(new MapCharge(7, true, true, 2774, 35, "ctr-a"), m.get(7));
        assertFalse(m.get(9).charged());
    }

    private static void record(ByteBuffer b, int id, int flags, long cg, long parent, String name) {
        int at = b.position();
        b.putInt(id).putInt(flags).putLong(cg).putLong(parent).put(name.getBytes(StandardCharsets.UTF_8));
        b.position(at + MapCharge.RECORD);
    }

    @Test
    void mapTypesKeepUnknownNumbers() {
        assertEquals("hash_of_maps", new MapType(13).name());
        assertEquals("type_99", new MapType(99).name());
        assertTrue(MapType.byName("lru_percpu_hash").isPerCpu());
        assertTrue(MapType.ARRAY_OF_MAPS.isMapOfMaps());
    }

    @Test
    void errnoNames() {
        BpfException e = new BpfException("open map id 3", Errno.ENOENT);
        assertEquals("open map id 3: ENOENT", e.getMessage());
        assertEquals("ENOENT", e.errnoName());
        assertEquals("errno 200", Errno.name(200));
    }
}
