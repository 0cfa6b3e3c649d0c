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
    /** struct file_ref: pid, kind, id, prog_id, file, refcnt, prog_refcnt. */
    private static final int FILE = 40;
    /** struct map_ref: id, pad, refcnt. */
    private static final int MAP = 16;

    /** What an open file (or a pin) refers to. */
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
        ByteBuffer f = buffer(links.get(0).readAll());
        List<FileRef> files = new ArrayList<>(f.capacity() / FILE);
        for (int off = 0; off + FILE <= f.capacity(); off += FILE)
            files.add(new FileRef(Integer.toUnsignedLong(f.getInt(off)), Kind.values()[f.getInt(off + 4) - 1],
                    f.getInt(off + 8), f.getInt(off + 12), f.getLong(off + 16), f.getLong(off + 24), f.getLong(off + 32)));
        ByteBuffer m = buffer(links.get(1).readAll());
        Map<Integer, Long> refcnts = HashMap.newHashMap(m.capacity() / MAP);
        for (int off = 0; off + MAP <= m.capacity(); off += MAP) refcnts.put(m.getInt(off), m.getLong(off + 8));
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
