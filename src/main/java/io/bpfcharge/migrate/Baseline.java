package io.bpfcharge.migrate;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/**
 * The old map's contents as they were copied (copy-swap of a map programs write): reconciliation compares
 * the old map's final values and the new map's current values against it. Kept in a file next to the
 * journal, so a migration resumed after a crash reconciles against the same baseline; the file is the
 * only copy (mapped, not read into the heap). Layout: key size, value size, count (u32 each), then
 * key|value records. An empty baseline (swap-backfill) says every key changed.
 */
final class Baseline implements AutoCloseable {
    private static final int HEADER = 16;

    private final Arena arena;
    private final MemorySegment data;
    private final int ks, vs, count;
    private final int[] index; // open addressing: record number + 1, 0 = free
    private final BitSet seen;

    private Baseline(Arena arena, MemorySegment data, int ks, int vs, int count) {
        this.arena = arena;
        this.data = data;
        this.ks = ks;
        this.vs = vs;
        this.count = count;
        this.index = new int[Integer.highestOneBit(Math.max(count, 1) * 2 - 1) << 1];
        this.seen = new BitSet(count);
        for (int i = 0; i < count; i++) {
            int slot = hash(key(i)) & (index.length - 1);
            while (index[slot] != 0) slot = (slot + 1) & (index.length - 1);
            index[slot] = i + 1;
        }
    }

    static Baseline empty(int ks, int vs) {
        return new Baseline(Arena.ofConfined(), MemorySegment.NULL, ks, vs, 0);
    }

    /** Appends batches to a file; {@link #finish()} writes the header, after which the file is complete. */
    static final class Writer implements Copier.Sink, AutoCloseable {
        private final FileChannel ch;
        private final int ks, vs;
        private int count;

        Writer(Path file, int ks, int vs) {
            this.ks = ks;
            this.vs = vs;
            try {
                ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                        StandardOpenOption.WRITE);
                ch.position(HEADER);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void accept(MemorySegment keys, MemorySegment values, int n) {
            java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(n * (ks + vs));
            MemorySegment out = MemorySegment.ofBuffer(buf);
            for (int i = 0; i < n; i++) {
                out.asSlice((long) i * (ks + vs), ks).copyFrom(keys.asSlice((long) i * ks, ks));
                out.asSlice((long) i * (ks + vs) + ks, vs).copyFrom(values.asSlice((long) i * vs, vs));
            }
            try {
                while (buf.hasRemaining()) ch.write(buf);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            count += n;
        }

        void finish() {
            java.nio.ByteBuffer h = java.nio.ByteBuffer.allocate(HEADER).order(java.nio.ByteOrder.nativeOrder());
            h.putInt(ks).putInt(vs).putInt(count).putInt(0).flip();
            try {
                ch.write(h, 0);
                ch.force(false);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void close() {
            try {
                ch.close();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    static Baseline open(Path file) {
        Arena arena = Arena.ofConfined();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            int ks = m.get(ValueLayout.JAVA_INT, 0), vs = m.get(ValueLayout.JAVA_INT, 4), n = m.get(ValueLayout.JAVA_INT, 8);
            return new Baseline(arena, m, ks, vs, n);
        } catch (IOException e) {
            arena.close();
            throw new java.io.UncheckedIOException(e);
        }
    }

    int count() { return count; }

    MemorySegment key(int i) { return data.asSlice(HEADER + (long) i * (ks + vs), ks); }

    MemorySegment value(int i) { return data.asSlice(HEADER + (long) i * (ks + vs) + ks, vs); }

    /** The record number of a key, or -1; marks it seen. */
    int find(MemorySegment key) {
        if (count == 0) return -1;
        int slot = hash(key) & (index.length - 1);
        while (index[slot] != 0) {
            int i = index[slot] - 1;
            if (key.mismatch(key(i)) == -1) {
                seen.set(i);
                return i;
            }
            slot = (slot + 1) & (index.length - 1);
        }
        return -1;
    }

    /** Records never passed to {@link #find}: keys deleted from the old map after the copy. */
    java.util.stream.IntStream unseen() {
        return java.util.stream.IntStream.range(0, count).filter(i -> !seen.get(i));
    }

    private static int hash(MemorySegment key) {
        int h = 1;
        long n = key.byteSize();
        for (long i = 0; i < n; i++) h = 31 * h + key.get(ValueLayout.JAVA_BYTE, i);
        return h ^ (h >>> 16);
    }

    @Override
    public void close() { arena.close(); }
}
