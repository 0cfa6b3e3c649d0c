package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.MapBatchOpts;
import io.bpfcharge.bpf.Structs.MapCreateOpts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;

/**
 * A BPF map. Element operations take caller-owned native buffers so that copies of
 * millions of entries allocate nothing per element.
 */
public final class MapFd extends BpfFd {
    /** BPF_MAP_UPDATE flags. */
    public static final long BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2;


    MapFd(int fd) { super(fd); }

    public static MapFd byId(int id) {
        return find(id).orElseThrow(() -> new BpfException("open map id " + id, Errno.ENOENT));
    }

    /** The map with this id; empty when there is none (freed, or never made). Other failures throw. */
    public static java.util.Optional<MapFd> find(int id) {
        int fd = Native.call(() -> (int) Native.MAP_GET_FD_BY_ID.invokeExact(id));
        if (fd == -Errno.ENOENT) return java.util.Optional.empty();
        if (fd < 0) throw new BpfException("open map id " + id, -fd); // message built only on failure: a scan opens thousands
        return java.util.Optional.of(new MapFd(fd));
    }

    /** Ids of every map in the system, ascending. */
    public static List<Integer> ids() { return Ids.all(Native.MAP_GET_NEXT_ID, "next map id"); }

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
                    (int) Native.MAP_CREATE.invokeExact(like.type().value(), arena.allocateFrom(like.name()),
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
        Native.checked("map info", () -> (int) Native.OBJ_GET_INFO_BY_FD.invokeExact(fd(), s.info, s.u32));
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
        int fd = Native.call(() -> (int) Native.OBJ_GET.invokeExact(s.path(path.toString())));
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

    /** @return false when the key is absent */
    public boolean lookup(MemorySegment key, MemorySegment value) {
        return found("lookup", call(() -> (int) Native.MAP_LOOKUP.invokeExact(fd(), key, value)));
    }

    public void update(MemorySegment key, MemorySegment value, long flags) {
        BpfException.check("update", call(() -> (int) Native.MAP_UPDATE.invokeExact(fd(), key, value, flags)));
    }

    /** @return false when the key was absent */
    public boolean delete(MemorySegment key) {
        return found("delete", call(() -> (int) Native.MAP_DELETE.invokeExact(fd(), key)));
    }

    /** Writes the key after {@code key} (the first key when {@code key} is NULL); false at the end. */
    public boolean nextKey(MemorySegment key, MemorySegment next) {
        return found("next key", call(() -> (int) Native.MAP_NEXT_KEY.invokeExact(fd(), key, next)));
    }

    /**
     * One BPF_MAP_LOOKUP_BATCH call. {@code count} holds the capacity on entry and the number
     * read on return. Returns false when the map has no more entries after this batch (ENOENT),
     * which may still have returned entries.
     */
    public boolean lookupBatch(MemorySegment inBatch, MemorySegment outBatch, MemorySegment keys,
                               MemorySegment values, MemorySegment count) {
        int ret = call(() -> (int) Native.MAP_LOOKUP_BATCH.invokeExact(fd(), inBatch, outBatch, keys, values, count,
                MemorySegment.NULL));
        if (ret == -Errno.ENOENT) return false;
        BpfException.check("lookup batch", ret);
        return true;
    }

    /** One BPF_MAP_UPDATE_BATCH call; {@code count} in: entries, out: entries written. */
    public void updateBatch(MemorySegment keys, MemorySegment values, MemorySegment count, long elemFlags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment opts = arena.allocate(MapBatchOpts.LAYOUT);
            MapBatchOpts.SZ.set(opts, 0L, opts.byteSize());
            MapBatchOpts.ELEM_FLAGS.set(opts, 0L, elemFlags);
            BpfException.check("update batch", call(() -> (int) Native.MAP_UPDATE_BATCH.invokeExact(fd(), keys, values, count, opts)));
        }
    }

    private static boolean found(String op, int ret) {
        if (ret == -Errno.ENOENT) return false;
        BpfException.check(op, ret);
        return true;
    }

    private static int call(Native.IntCall c) { return Native.call(c); }
}
