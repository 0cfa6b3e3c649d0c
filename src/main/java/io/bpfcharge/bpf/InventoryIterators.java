package io.bpfcharge.bpf;

import io.bpfcharge.FileNames;
import io.bpfcharge.bpf.Structs.HolderRecord;
import io.bpfcharge.bpf.Structs.MapRecord;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The two iterators of bpf/inventory.bpf.c, loaded and attached once: {@link #maps()} walks every map
 * in the system, {@link #holders()} every open file of every process, each time it is called.
 */
public final class InventoryIterators implements AutoCloseable {
    /** A process with an fd on a map: its tgid and name. */
    public record Holder(long pid, String comm) {}

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

    /**
     * The kernel's count of user references to one map (every fd and pin, also an fd still being opened),
     * or -1 when it no longer exists: a caller that knows its own can tell whether anything else holds it.
     * Programs hold maps by other references (see {@link ProgInfo#mapIds()}).
     */
    public synchronized long users(int mapId) {
        byte[] out = maps.readAll();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        for (int off = 0; off + MapRecord.SIZE <= out.length; off += MapRecord.SIZE)
            if (b.getInt(off + MapRecord.MAP_ID) == mapId) return Integer.toUnsignedLong(b.getInt(off + MapRecord.USERS));
        return -1;
    }

    /** Map id to the processes with an fd on it, each listed once. */
    public synchronized Map<Integer, List<Holder>> holders() {
        return parseHolders(holders.readAll());
    }

    /** Records laid out as struct holder_record in bpf/inventory.h. */
    static Map<Integer, List<Holder>> parseHolders(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        Map<Integer, List<Holder>> holders = new HashMap<>();
        Map<Long, Holder> byPid = new HashMap<>();
        for (int off = 0; off + HolderRecord.SIZE <= out.length; off += HolderRecord.SIZE) {
            long pid = Integer.toUnsignedLong(b.getInt(off + HolderRecord.PID));
            int at = off;
            Holder holder = byPid.computeIfAbsent(pid, p -> new Holder(p, Structs.cString(out, at + HolderRecord.COMM, 16)));
            List<Holder> l = holders.computeIfAbsent(b.getInt(off + HolderRecord.MAP_ID), k -> new ArrayList<>(1));
            if (!l.contains(holder)) l.add(holder); // one record per fd, and per thread on kernels that visit threads
        }
        return holders;
    }

    /** Records laid out as struct map_record in bpf/inventory.h. */
    static Map<Integer, MapCharge> parseMaps(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        Map<Integer, MapCharge> charges = LinkedHashMap.newLinkedHashMap(out.length / MapRecord.SIZE);
        Map<Long, String> cgroupNames = new HashMap<>(); // thousands of maps share a handful of memcgs
        for (int off = 0; off + MapRecord.SIZE <= out.length; off += MapRecord.SIZE) {
            int id = b.getInt(off + MapRecord.MAP_ID);
            int flags = b.getInt(off + MapRecord.FLAGS);
            long cgroupId = b.getLong(off + MapRecord.CGROUP_ID);
            int at = off;
            String cgroupName = cgroupNames.computeIfAbsent(cgroupId, k -> FileNames.text(Structs.cBytes(out, at + MapRecord.CGROUP_NAME, 64)));
            MapInfo info = new MapInfo(id, MapType.of(b.getInt(off + MapRecord.MAP_TYPE)),
                    Structs.cString(out, off + MapRecord.MAP_NAME, 16), b.getInt(off + MapRecord.KEY_SIZE),
                    b.getInt(off + MapRecord.VALUE_SIZE), b.getInt(off + MapRecord.MAX_ENTRIES),
                    b.getInt(off + MapRecord.MAP_FLAGS), b.getLong(off + MapRecord.MAP_EXTRA),
                    b.getInt(off + MapRecord.BTF_ID), b.getInt(off + MapRecord.BTF_KEY_TYPE_ID),
                    b.getInt(off + MapRecord.BTF_VALUE_TYPE_ID), b.getInt(off + MapRecord.BTF_VMLINUX_VALUE_TYPE_ID), 0);
            charges.put(id, new MapCharge(info, (flags & MapRecord.MAP_CHARGED) != 0, (flags & MapRecord.MAP_ONLINE) != 0,
                    cgroupId, b.getLong(off + MapRecord.PARENT_CGROUP_ID), cgroupName,
                    (flags & MapRecord.MAP_ARENA_PAGES) != 0 ? OptionalLong.of(b.getLong(off + MapRecord.ARENA_PAGES)) : OptionalLong.empty()));
        }
        return charges;
    }

    @Override
    public void close() {
        for (BpfObject.Iterator link : new BpfObject.Iterator[]{maps, holders}) if (link != null) link.close();
        maps = holders = null;
        object.close();
    }
}
