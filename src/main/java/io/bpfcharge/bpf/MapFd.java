package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.MapBatchOpts;
import io.bpfcharge.bpf.Structs.MapCreateOpts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;

/**
 * A BPF map. Copies go through {@link MapBatch}es, native buffers reused batch after batch, so that
 * millions of entries allocate nothing per element; single elements take Java buffers of the map's key
 * and value sizes.
 */
public final class MapFd extends BpfFd {
    /** BPF_MAP_UPDATE flags. */
    public static final long BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;


    private MapInfo shape; // benign race: a record, the same from any thread

    MapFd(int fd) { super(fd); }

    public static MapFd byId(int id) {
        return find(id).orElseThrow(() -> new BpfException("open map id " + id, Errno.ENOENT));
    }

    /** The map with this id; empty when there is none (freed, or never made). Other failures throw. */
    public static java.util.Optional<MapFd> find(int id) {
        int fd = Native.call(() -> (int) Native.Ids.MAP_GET_FD_BY_ID.invokeExact(id));
        if (fd == -Errno.ENOENT) return java.util.Optional.empty();
        if (fd < 0) throw new BpfException("open map id " + id, -fd); // message built only on failure: a scan opens thousands
        return java.util.Optional.of(new MapFd(fd));
    }

    /** Ids of every map in the system, ascending. */
    public static List<Integer> ids() { return Ids.all(Native.Ids.MAP_GET_NEXT_ID, "next map id"); }

    /**
     * Creates a map with the attributes of {@code like}. The kernel charges it to the calling task's memcg.
     * @param btf the BTF object for {@code like}'s key/value type ids, or null
     * @param innerTemplate for a map-of-maps, a map of the inner type, or null
     */
    public static MapFd create(MapInfo like, BtfFd btf, MapFd innerTemplate) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(MapCreateOpts.LAYOUT);
            MapCreateOpts.SZ.set(opts, 0L, opts.byteSize());
            if (btf != null) {
                MapCreateOpts.BTF_FD.set(opts, 0L, btf.fd());
                MapCreateOpts.BTF_KEY_TYPE_ID.set(opts, 0L, like.btfKeyTypeId());
                MapCreateOpts.BTF_VALUE_TYPE_ID.set(opts, 0L, like.btfValueTypeId());
            }
            MapCreateOpts.BTF_VMLINUX_VALUE_TYPE_ID.set(opts, 0L, like.btfVmlinuxValueTypeId());
            MapCreateOpts.INNER_MAP_FD.set(opts, 0L, innerTemplate == null ? 0 : innerTemplate.fd());
            MapCreateOpts.MAP_FLAGS.set(opts, 0L, like.flags());
            MapCreateOpts.MAP_EXTRA.set(opts, 0L, like.mapExtra());
            MapCreateOpts.MAP_IFINDEX.set(opts, 0L, like.ifindex());
            int fd = BpfException.check("create " + like.type() + " map " + like.name(),
                    (int) Native.Elements.MAP_CREATE.invokeExact(like.type().value(), arena.allocateFrom(like.name()),
                            like.keySize(), like.valueSize(), like.maxEntries(), opts));
            return new MapFd(fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public MapInfo info() {
        Scratch s = Scratch.get();
        s.info.fill((byte) 0); // an older kernel writes less than the whole struct: the rest must read as 0, not the last map's
        s.u32.set(Native.I, 0, (int) s.info.byteSize());
        Native.checked("map info", () -> (int) Native.Ids.OBJ_GET_INFO_BY_FD.invokeExact(fd(), s.info, s.u32));
        return MapInfo.parse(s.info);
    }

    /** A map opened from its pin, with what its fdinfo said when it was opened. */
    public record Pinned(MapFd fd, FdInfo fdinfo) implements AutoCloseable {
        @Override
        public void close() { fd.close(); }
    }

    /**
     * Opens the map pinned at a path and reads its id and memlock in one fdinfo read (no readlink, no
     * info call: a first scan does this for every pin). Null when the pin holds another kind of object,
     * whose fdinfo has no map_id; throws when the pin cannot be opened.
     */
    public static Pinned openPinned(Path path) {
        Scratch s = Scratch.get();
        int fd = Native.call(() -> (int) Native.Pins.OBJ_GET.invokeExact(s.path(path.toString())));
        if (fd < 0) throw new BpfException("open pin " + path, -fd);
        FdInfo info = FdInfo.read(fd);
        if (info == null) {
            Libc.close(fd);
            return null;
        }
        return new Pinned(new MapFd(fd), info);
    }

    /** The kernel's memlock figure for this map (fdinfo). */
    public long memlock() {
        FdInfo fi = FdInfo.read(fd());
        return fi == null ? 0 : fi.memlock();
    }

    /**
     * Reads the entries after those the batch's last read stopped at (the first ones when it is new) into
     * {@code batch}, with BPF_MAP_LOOKUP_BATCH. Returns false when the map has no more entries after these
     * (the batch may still hold some). Throws when the map or kernel has no batch lookup (EINVAL, ENOTSUPP).
     */
    public boolean lookupBatch(MapBatch batch) {
        requireShape(batch);
        MemorySegment from = batch.started ? batch.in : MemorySegment.NULL; // a local: invokeExact types a conditional as Object
        while (true) {
            batch.count.set(Native.I, 0, batch.capacity());
            int ret = call(() -> (int) Native.Elements.MAP_LOOKUP_BATCH.invokeExact(fd(), from, batch.out, batch.keys, batch.values,
                    batch.count, MemorySegment.NULL));
            // One hash bucket holds more entries than the batch: read the same bucket again with room for it.
            if (ret == -Errno.ENOSPC && batch.grow()) continue;
            if (ret != -Errno.ENOENT) BpfException.check("lookup batch", ret);
            batch.filled(batch.count.get(Native.I, 0));
            batch.in.copyFrom(batch.out);
            batch.started = true;
            return ret != -Errno.ENOENT;
        }
    }

    /**
     * As {@link #lookupBatch}, one element at a time (BPF_MAP_GET_NEXT_KEY, then a lookup): for maps and
     * kernels without batch calls. A key deleted between the two is skipped.
     */
    public boolean lookupElements(MapBatch batch) {
        requireShape(batch);
        int n = 0;
        while (nextKey(batch.started ? batch.in : MemorySegment.NULL, batch.out)) {
            batch.in.copyFrom(batch.out);
            batch.started = true;
            if (!lookup(batch.in, batch.valueSegment(n))) continue;
            batch.keySegment(n).copyFrom(batch.in.asSlice(0, batch.keySize()));
            if (++n == batch.capacity()) {
                batch.filled(n);
                return true;
            }
        }
        batch.filled(n);
        return false;
    }

    /** Writes the batch's entries with one BPF_MAP_UPDATE_BATCH call. */
    public void updateBatch(MapBatch batch, long elemFlags) {
        requireShape(batch);
        batch.count.set(Native.I, 0, batch.size());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(MapBatchOpts.LAYOUT);
            MapBatchOpts.SZ.set(opts, 0L, opts.byteSize());
            MapBatchOpts.ELEM_FLAGS.set(opts, 0L, elemFlags);
            BpfException.check("update batch", call(() -> (int) Native.Elements.MAP_UPDATE_BATCH.invokeExact(fd(), batch.keys,
                    batch.values, batch.count, opts)));
        }
    }

    /** Writes the batch's entries one update call each. */
    public void updateElements(MapBatch batch, long flags) {
        requireShape(batch);
        for (int i = 0; i < batch.size(); i++) update(batch.keySegment(i), batch.valueSegment(i), flags);
    }

    /**
     * Copies key's value into {@code value} (its remaining bytes: the map's value size, per-CPU values for
     * every possible CPU). False when the key is absent.
     */
    public boolean lookup(ByteBuffer key, ByteBuffer value) {
        MapInfo shape = shape();
        MemorySegment out = MapBatch.segment(value, shape.userValueSize(), "value"), v = Scratch.get().value(out.byteSize());
        if (!lookup(keyOf(key), v)) return false;
        out.copyFrom(v);
        return true;
    }

    public void update(ByteBuffer key, ByteBuffer value, long flags) {
        MemorySegment v = Scratch.get().value(value.remaining());
        v.copyFrom(MapBatch.segment(value, shape().userValueSize(), "value"));
        update(keyOf(key), v, flags);
    }

    /** @return false when the key was absent */
    public boolean delete(ByteBuffer key) {
        return found("delete", call(() -> (int) Native.Elements.MAP_DELETE.invokeExact(fd(), keyOf(key))));
    }

    /** A map-of-maps slot: the id of the inner map it holds (user space reads ids), empty when it holds none. */
    public OptionalInt innerMapId(ByteBuffer key) {
        MemorySegment id = Scratch.get().value(Native.I.byteSize());
        return lookup(keyOf(key), id) ? OptionalInt.of(id.get(Native.I, 0)) : OptionalInt.empty();
    }

    /** Puts {@code inner} into a map-of-maps slot (user space writes fds). */
    public void setInnerMap(ByteBuffer key, MapFd inner) {
        MemorySegment fd = Scratch.get().value(Native.I.byteSize());
        fd.set(Native.I, 0, inner.fd());
        update(keyOf(key), fd, BPF_ANY);
    }

    /** @return false when the key is absent */
    private boolean lookup(MemorySegment key, MemorySegment value) {
        return found("lookup", call(() -> (int) Native.Elements.MAP_LOOKUP.invokeExact(fd(), key, value)));
    }

    void update(MemorySegment key, MemorySegment value, long flags) {
        BpfException.check("update", call(() -> (int) Native.Elements.MAP_UPDATE.invokeExact(fd(), key, value, flags)));
    }

    /** Writes the key after {@code key} (the first key when {@code key} is NULL); false at the end. */
    private boolean nextKey(MemorySegment key, MemorySegment next) {
        return found("next key", call(() -> (int) Native.Elements.MAP_NEXT_KEY.invokeExact(fd(), key, next)));
    }

    /** A key, in native memory: the caller's buffer may be on the heap. */
    private MemorySegment keyOf(ByteBuffer key) {
        MemorySegment k = MapBatch.segment(key, shape().keySize(), "key");
        return Scratch.get().key(k.byteSize()).copyFrom(k);
    }

    /** Key and value sizes, read once: element calls check their buffers against them (the kernel writes past short ones). */
    private MapInfo shape() {
        MapInfo s = shape;
        if (s == null) shape = s = info();
        return s;
    }

    private void requireShape(MapBatch batch) {
        MapInfo s = shape();
        if (batch.keySize() != s.keySize() || batch.valueSize() != s.userValueSize())
            throw new IllegalArgumentException("a batch of " + batch.keySize() + "+" + batch.valueSize() + "-byte entries for map "
                    + s.id() + " of " + s.keySize() + "+" + s.userValueSize());
    }

    private static boolean found(String op, int ret) {
        if (ret == -Errno.ENOENT) return false;
        BpfException.check(op, ret);
        return true;
    }

    private static int call(Native.IntCall c) { return Native.call(c); }
}
