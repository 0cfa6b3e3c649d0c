package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Entries of one map in native buffers that {@link MapFd}'s batch calls read and write in place: up to
 * {@link #capacity()} keys and values (per-CPU values as user space sees them, {@link MapInfo#userValueSize}),
 * how many it holds, and where the read that filled it stopped, so that the next read into it continues
 * there (the kernel's batch token, or the last key listed). Reused batch after batch, a copy of millions of
 * entries allocates nothing per element. One thread uses it.
 */
public final class MapBatch implements AutoCloseable {
    private final Arena arena = Arena.ofConfined();
    private final int keySize, valueSize;
    private int capacity, size;
    MemorySegment keys, values;
    private ByteBuffer keyView, valueView;
    /** A read's start (in) and end (out): a bucket index (u32) for hashes, a key for arrays and listed keys. */
    final MemorySegment in, out;
    final MemorySegment count;
    /** False until the first read: it starts at the map's first entry (a NULL token or key). */
    boolean started;

    /** Room for {@code capacity} entries of {@code info}'s map (fewer when that would exceed 2 GiB per buffer). */
    public static MapBatch of(MapInfo info, int capacity) {
        return new MapBatch(info.keySize(), info.userValueSize(), capacity);
    }

    public MapBatch(int keySize, int valueSize, int capacity) {
        if (keySize <= 0 || valueSize <= 0 || capacity <= 0)
            throw new IllegalArgumentException("batch of " + capacity + " entries of " + keySize + "+" + valueSize + " bytes");
        this.keySize = keySize;
        this.valueSize = valueSize;
        in = arena.allocate(Math.max(keySize, 8), 8);
        out = arena.allocate(Math.max(keySize, 8), 8);
        count = arena.allocate(Native.I);
        allocate(capacity);
    }

    public int keySize() { return keySize; }

    public int valueSize() { return valueSize; }

    public int capacity() { return capacity; }

    /** Entries it holds. */
    public int size() { return size; }

    /** Entry i's key: a read-only view in the platform's byte order, valid until the next read into this batch. */
    public ByteBuffer key(int i) { return view(keyView, i, keySize); }

    /** Entry i's value, as {@link #key}. */
    public ByteBuffer value(int i) { return view(valueView, i, valueSize); }

    /** Appends a copy of one entry (the remaining bytes of each buffer). */
    public void add(ByteBuffer key, ByteBuffer value) {
        if (size == capacity) throw new IllegalStateException("the batch holds its " + capacity + " entries already");
        MemorySegment.copy(segment(key, keySize, "key"), 0, keys, (long) size * keySize, keySize);
        MemorySegment.copy(segment(value, valueSize, "value"), 0, values, (long) size * valueSize, valueSize);
        size++;
    }

    /** Appends every entry to {@code out}, packed: key, value, key, value... */
    public void putEntries(ByteBuffer out) {
        MemorySegment to = MemorySegment.ofBuffer(out);
        long at = 0;
        for (int i = 0; i < size; i++) {
            MemorySegment.copy(keys, (long) i * keySize, to, at, keySize);
            MemorySegment.copy(values, (long) i * valueSize, to, at + keySize, valueSize);
            at += keySize + valueSize;
        }
        out.position(out.position() + (int) at);
    }

    /** Empties it; a read into it still continues where the last one stopped. */
    public void clear() { size = 0; }

    @Override
    public void close() { arena.close(); }

    void filled(int n) { size = n; }

    /** Four times the room, for a hash bucket the batch cannot hold; false when it cannot grow. */
    boolean grow() {
        int before = capacity;
        allocate((int) Math.min((long) capacity * 4, Integer.MAX_VALUE));
        return capacity > before;
    }

    MemorySegment keySegment(int i) { return keys.asSlice((long) i * keySize, keySize); }

    MemorySegment valueSegment(int i) { return values.asSlice((long) i * valueSize, valueSize); }

    /** The buffers for {@code wanted} entries; the old ones stay in the arena until close. */
    private void allocate(int wanted) {
        // Each buffer stays viewable as one ByteBuffer (int-indexed).
        capacity = Math.max(1, Math.min(wanted, Integer.MAX_VALUE / Math.max(keySize, valueSize)));
        keys = arena.allocate((long) keySize * capacity, 8);
        values = arena.allocate((long) valueSize * capacity, 8);
        keyView = keys.asReadOnly().asByteBuffer();
        valueView = values.asReadOnly().asByteBuffer();
    }

    private ByteBuffer view(ByteBuffer all, int i, int bytes) {
        Objects.checkIndex(i, size);
        return all.slice(i * bytes, bytes).order(ByteOrder.nativeOrder());
    }

    static MemorySegment segment(ByteBuffer b, int bytes, String what) {
        if (b.remaining() != bytes)
            throw new IllegalArgumentException("a " + what + " of " + b.remaining() + " bytes for a map whose " + what + "s have " + bytes);
        return MemorySegment.ofBuffer(b);
    }
}
