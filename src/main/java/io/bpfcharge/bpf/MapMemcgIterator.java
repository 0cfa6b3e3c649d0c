package io.bpfcharge.bpf;

import java.lang.foreign.MemorySegment;
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

    private MapMemcgIterator(BpfObject object, MemorySegment link) {
        this.object = object;
        this.link = link;
    }

    public static MapMemcgIterator open() {
        BpfObject object = BpfObject.load("map_memcg");
        try (java.lang.foreign.Arena tmp = java.lang.foreign.Arena.ofConfined()) {
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
        byte[] out;
        try {
            int linkFd = (int) Native.LINK_FD.invokeExact(link);
            int iterFd = BpfException.check("create bpf_map iterator", (int) Native.ITER_CREATE.invokeExact(linkFd));
            try {
                out = Libc.readAll("read bpf_map iterator", iterFd);
            } finally {
                Libc.close(iterFd);
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        return parse(out);
    }

    static Map<Integer, MapCharge> parse(byte[] out) {
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
        Map<Integer, MapCharge> charges = new HashMap<>(out.length / MapCharge.RECORD * 2);
        for (int off = 0; off + MapCharge.RECORD <= out.length; off += MapCharge.RECORD) {
            int id = b.getInt(off);
            int flags = b.getInt(off + 4);
            int n = 0;
            while (n < 64 && out[off + 24 + n] != 0) n++;
            charges.put(id, new MapCharge(id, (flags & CHARGED) != 0, (flags & ONLINE) != 0, b.getLong(off + 8),
                    b.getLong(off + 16), new String(out, off + 24, n, StandardCharsets.UTF_8)));
        }
        return charges;
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
