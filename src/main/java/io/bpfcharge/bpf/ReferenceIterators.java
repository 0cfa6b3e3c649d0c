package io.bpfcharge.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The two iterators of bpf/references.bpf.c, loaded and attached once: every open map, program and link
 * file of every process with the object's reference count, and every map's reference count. What a kill
 * frees is worked out from these in {@code io.bpfcharge.inventory.Survival}.
 */
public final class ReferenceIterators implements AutoCloseable {
    /** What an open file (or a pin) refers to: enum ref_kind, in its order. */
    public enum Kind { MAP, PROG, LINK }

    /**
     * One open file of one process.
     * @param file identity of the open file: fds and processes sharing one file hold one reference
     * @param progId for a link, its program (0 if detached); else 0
     * @param progRefcnt for a link, its program's reference count
     */
    public record FileRef(long pid, Kind kind, int id, int progId, long file, long refcnt, long progRefcnt) {}

    /** One walk of each iterator: every bpf file, and every map's reference count (the iterator's own taken off). */
    public record Walk(List<FileRef> files, Map<Integer, Long> mapRefcnts) {}

    private final BpfObject object;
    private final List<BpfObject.Iterator> links = new ArrayList<>();

    private ReferenceIterators(BpfObject object) { this.object = object; }

    public static ReferenceIterators open() {
        ReferenceIterators it = new ReferenceIterators(BpfObject.load("references"));
        try {
            it.links.add(it.object.attachIterator("bpf_files", "task_file"));
            it.links.add(it.object.attachIterator("map_refs", "bpf_map"));
            return it;
        } catch (RuntimeException e) {
            it.close();
            throw e;
        }
    }

    /** Files first, map counts right after: both describe the system at about the same moment. */
    public synchronized Walk walk() {
        return parse(links.get(0).readAll(), links.get(1).readAll());
    }

    /** Records laid out as struct file_ref and struct map_ref in bpf/references.h. */
    static Walk parse(byte[] fileRecords, byte[] mapRecords) {
        ByteBuffer f = buffer(fileRecords);
        List<FileRef> files = new ArrayList<>(fileRecords.length / Structs.FileRef.SIZE);
        for (int off = 0; off + Structs.FileRef.SIZE <= fileRecords.length; off += Structs.FileRef.SIZE)
            files.add(new FileRef(Integer.toUnsignedLong(f.getInt(off + Structs.FileRef.PID)),
                    Kind.values()[f.getInt(off + Structs.FileRef.KIND) - Structs.FileRef.FIRST_KIND],
                    f.getInt(off + Structs.FileRef.ID), f.getInt(off + Structs.FileRef.PROG_ID), f.getLong(off + Structs.FileRef.FILE),
                    f.getLong(off + Structs.FileRef.REFCNT), f.getLong(off + Structs.FileRef.PROG_REFCNT)));
        ByteBuffer m = buffer(mapRecords);
        Map<Integer, Long> refcnts = HashMap.newHashMap(mapRecords.length / Structs.MapRef.SIZE);
        for (int off = 0; off + Structs.MapRef.SIZE <= mapRecords.length; off += Structs.MapRef.SIZE)
            refcnts.put(m.getInt(off + Structs.MapRef.MAP_ID), m.getLong(off + Structs.MapRef.REFCNT));
        return new Walk(files, refcnts);
    }

    private static ByteBuffer buffer(byte[] b) { return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()); }

    @Override
    public void close() {
        links.forEach(BpfObject.Iterator::close);
        links.clear();
        object.close();
    }
}
