package io.bpfcharge.bpf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The {@code iter/bpf_map} program of bpf/map_memcg.bpf.c, loaded and attached once;
 * every {@link #read()} walks all maps in the system again.
 */
public final class MapMemcgIterator implements AutoCloseable {
    private static final int CHARGED = 1, ONLINE = 2;

    private final BpfObject object;
    private MemorySegment link;
    /** Kept between reads and grown to fit: the output is about 150 bytes per map. */
    private MemorySegment buf = Arena.ofAuto().allocate(1 << 20, 8);

    private MapMemcgIterator(BpfObject object, MemorySegment link) {
        this.object = object;
        this.link = link;
    }

    public static MapMemcgIterator open() {
        BpfObject object = BpfObject.load("map_memcg");
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment cap = tmp.allocate(Native.CAPTURE);
            MemorySegment link = (MemorySegment) Native.PROGRAM_ATTACH_ITER.invokeExact(cap, object.program("map_memcg"), MemorySegment.NULL);
            if (link.equals(MemorySegment.NULL)) {
                int errno = Native.errno(cap);
                object.close();
                throw new BpfException("attach bpf_map iterator", errno);
            }
            return new MapMemcgIterator(object, link);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Map id to charge, for every map alive during the walk. */
    public Map<Integer, MapCharge> read() {
        long len = 0;
        try {
            int linkFd = (int) Native.LINK_FD.invokeExact(link);
            int iterFd = BpfException.check("create bpf_map iterator", (int) Native.ITER_CREATE.invokeExact(linkFd));
            try {
                while (true) {
                    if (len == buf.byteSize()) buf = Arena.ofAuto().allocate(2 * len, 8).copyFrom(buf);
                    long n = Libc.read("read bpf_map iterator", iterFd, buf.asSlice(len));
                    if (n == 0) break;
                    len += n;
                }
            } finally {
                Libc.close(iterFd);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return parse(buf.asSlice(0, len).toArray(ValueLayout.JAVA_BYTE));
    }

    /**
     * Records laid out as struct record in bpf/map_memcg.bpf.c. Parsed from a heap copy: before the JIT
     * has compiled it, a segment read costs far more than a ByteBuffer read, and a CLI run is all "before".
     */
    static Map<Integer, MapCharge> parse(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        Map<Integer, MapCharge> charges = HashMap.newHashMap(out.length / MapCharge.RECORD);
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
        if (link == null) return;
        try {
            int ignored = (int) Native.LINK_DESTROY.invokeExact(link);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        link = null;
        object.close();
    }
}
