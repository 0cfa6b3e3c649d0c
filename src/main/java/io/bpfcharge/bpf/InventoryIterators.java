package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
    /** Offset of struct record's users. */
    private static final int USERS = 60;

    private final BpfObject object;
    private MemorySegment maps, holders;
    /** Kept between reads and grown to fit: the maps output is about 150 bytes per map. */
    private MemorySegment buf = Arena.ofAuto().allocate(1 << 20, 8);

    private InventoryIterators(BpfObject object) {
        this.object = object;
    }

    public static InventoryIterators open() {
        InventoryIterators it = new InventoryIterators(BpfObject.load("inventory"));
        try {
            it.maps = it.attach("map_memcg", "bpf_map");
            it.holders = it.attach("map_holders", "task_file");
            return it;
        } catch (RuntimeException e) {
            it.close();
            throw e;
        }
    }

    private MemorySegment attach(String program, String target) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment cap = tmp.allocate(Native.CAPTURE);
            MemorySegment link = (MemorySegment) Native.PROGRAM_ATTACH_ITER.invokeExact(cap, object.program(program), MemorySegment.NULL);
            if (link.equals(MemorySegment.NULL)) throw new BpfException("attach " + target + " iterator", Native.errno(cap));
            return link;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Map id to charge and attributes, for every map alive during the walk, in ascending id order (the kernel walks its idr). */
    public synchronized Map<Integer, MapCharge> maps() {
        return parseMaps(read(maps, "bpf_map"));
    }

    /**
     * The kernel's count of user references to one map (every fd and pin, also an fd still being opened),
     * or -1 when it no longer exists: a caller that knows its own can tell whether anything else holds it.
     * Programs hold maps by other references (see {@link ProgInfo#mapIds()}).
     */
    public synchronized long users(int mapId) {
        ByteBuffer b = ByteBuffer.wrap(read(maps, "bpf_map")).order(ByteOrder.nativeOrder());
        for (int off = 0; off + MapCharge.RECORD <= b.capacity(); off += MapCharge.RECORD)
            if (b.getInt(off) == mapId) return Integer.toUnsignedLong(b.getInt(off + USERS));
        return -1;
    }

    /** Map id to the processes (tgid) with an fd on it, each listed once. */
    public synchronized Map<Integer, List<Long>> holders() {
        ByteBuffer b = ByteBuffer.wrap(read(holders, "task_file")).order(ByteOrder.nativeOrder());
        Map<Integer, List<Long>> out = new HashMap<>();
        for (int off = 0; off + HOLDER <= b.capacity(); off += HOLDER) {
            long pid = Integer.toUnsignedLong(b.getInt(off));
            List<Long> pids = out.computeIfAbsent(b.getInt(off + 4), k -> new ArrayList<>(1));
            if (!pids.contains(pid)) pids.add(pid); // one per fd, and per thread on kernels that visit threads
        }
        return out;
    }

    /** One full walk: a new iterator fd from the link, read to its end. */
    private byte[] read(MemorySegment link, String target) {
        long len = 0;
        try {
            int linkFd = (int) Native.LINK_FD.invokeExact(link);
            int iterFd = BpfException.check("create " + target + " iterator", (int) Native.ITER_CREATE.invokeExact(linkFd));
            try {
                while (true) {
                    if (len == buf.byteSize()) buf = Arena.ofAuto().allocate(2 * len, 8).copyFrom(buf);
                    long n = Libc.read("read " + target + " iterator", iterFd, buf.asSlice(len));
                    if (n == 0) break;
                    len += n;
                }
            } finally {
                Libc.close(iterFd);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        // Parsed from a heap copy: before the JIT has compiled it, a segment read costs far more than a
        // ByteBuffer read, and a CLI run is all "before".
        return buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE);
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
        try {
            for (MemorySegment link : new MemorySegment[]{maps, holders})
                if (link != null) {
                    int ignored = (int) Native.LINK_DESTROY.invokeExact(link);
                }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        maps = holders = null;
        object.close();
    }
}
