package io.bpfcharge.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The two iterators of bpf/inventory.bpf.c, loaded and attached once: {@link #maps()} walks every map
 * in the system, {@link #holders()} every open file of every process, each time it is called.
 */
public final class InventoryIterators implements AutoCloseable {
    private static final int CHARGED = 1, ONLINE = 2;
    /** struct holder: pid, map id. */
    private static final int HOLDER = 8;

    private final BpfObject object;
    private BpfObject.Iterator maps, holders;

    private InventoryIterators(BpfObject object) {
        this.object = object;
    }

    public static InventoryIterators open() {
        InventoryIterators it = new InventoryIterators(BpfObject.load("inventory"));
        try {
            it.maps = it.object.attachIterator("map_memcg", "bpf_map");
            it.holders = it.object.attachIterator("map_holders", "task_file");
            return it;
        } catch (RuntimeException e) {
            it.close();
            throw e;
        }
    }

    /** Map id to charge and attributes, for every map alive during the walk, in ascending id order (the kernel walks its idr). */
    public synchronized Map<Integer, MapCharge> maps() {
        return parseMaps(maps.readAll());
    }

    /** Map id to the processes (tgid) with an fd on it, each listed once. */
    public synchronized Map<Integer, List<Long>> holders() {
        ByteBuffer b = ByteBuffer.wrap(holders.readAll()).order(ByteOrder.nativeOrder());
        Map<Integer, List<Long>> out = new HashMap<>();
        for (int off = 0; off + HOLDER <= b.capacity(); off += HOLDER) {
            long pid = Integer.toUnsignedLong(b.getInt(off));
            List<Long> pids = out.computeIfAbsent(b.getInt(off + 4), k -> new ArrayList<>(1));
            if (!pids.contains(pid)) pids.add(pid); // one per fd, and per thread on kernels that visit threads
        }
        return out;
    }

    /** Records laid out as struct record in bpf/inventory.bpf.c. */
    static Map<Integer, MapCharge> parseMaps(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        Map<Integer, MapCharge> charges = LinkedHashMap.newLinkedHashMap(out.length / MapCharge.RECORD);
        Map<Long, String> cgroupNames = new HashMap<>(); // thousands of maps share a handful of memcgs
        for (int off = 0; off + MapCharge.RECORD <= out.length; off += MapCharge.RECORD) {
            int id = b.getInt(off);
            int flags = b.getInt(off + 4);
            long cgroupId = b.getLong(off + 8);
            int at = off;
            String cgroupName = cgroupNames.computeIfAbsent(cgroupId, k -> cString(out, at + 88, 64));
            MapInfo info = new MapInfo(id, new MapType(b.getInt(off + 24)), cString(out, off + 72, 16),
                    b.getInt(off + 28), b.getInt(off + 32), b.getInt(off + 36), b.getInt(off + 40),
                    b.getLong(off + 64), b.getInt(off + 44), b.getInt(off + 48), b.getInt(off + 52), b.getInt(off + 56), 0);
            charges.put(id, new MapCharge(info, (flags & CHARGED) != 0, (flags & ONLINE) != 0, cgroupId,
                    b.getLong(off + 16), cgroupName));
        }
        return charges;
    }

    private static String cString(byte[] b, int off, int max) {
        int n = 0;
        while (n < max && b[off + n] != 0) n++;
        return new String(b, off, n, StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        for (BpfObject.Iterator link : new BpfObject.Iterator[]{maps, holders}) if (link != null) link.close();
        maps = holders = null;
        object.close();
    }
}
