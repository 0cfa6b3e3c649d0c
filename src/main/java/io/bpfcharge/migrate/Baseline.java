package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.MappedFile;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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

    private final MappedFile data; // null when empty
    private final int ks, vs, count;
    private final int[] index; // open addressing: record number + 1, 0 = free
    private final BitSet seen;

    private Baseline(MappedFile data, int ks, int vs, int count) {
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
        return new Baseline(null, ks, vs, 0);
    }

    /** Appends batches to a file; {@link #finish()} writes the header, after which the file is complete. */
    static final class Writer implements Copier.Sink, AutoCloseable {
        private final FileChannel ch;
        private final int ks, vs;
        private int count;
        /** Reused: a direct buffer per batch stays resident until a GC runs its cleaner (+30 MiB RSS for a 1M-entry copy). */
        private ByteBuffer buf = ByteBuffer.allocateDirect(0);

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
        public void accept(MapBatch batch) {
            int n = batch.size();
            if (buf.capacity() < n * (ks + vs)) buf = ByteBuffer.allocateDirect(n * (ks + vs));
            buf.clear();
            batch.putEntries(buf);
            buf.flip();
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
        MappedFile m = MappedFile.open(file);
        ByteBuffer h = m.slice(0, HEADER);
        return new Baseline(m, h.getInt(0), h.getInt(4), h.getInt(8));
    }

    /**
     * {@link #open}, or empty when the file was never completed: its writer was killed before {@code finish}
     * wrote the header. Then nothing tells which keys changed, and a key the other map holds (an array: non-zero)
     * counts as changed since: its value stays, and only keys it lacks are given back.
     */
    static Baseline openOrEmpty(Path file, int ks, int vs) {
        try {
            if (!java.nio.file.Files.exists(file) || java.nio.file.Files.size(file) < HEADER) return empty(ks, vs);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return open(file);
    }

    int count() { return count; }

    ByteBuffer key(int i) { return data.slice(at(i), ks); }

    ByteBuffer value(int i) { return data.slice(at(i) + ks, vs); }

    /** Whether record i's value is {@code value}. */
    boolean holds(int i, ByteBuffer value) { return data.equalsAt(at(i) + ks, value); }

    private long at(int i) { return HEADER + (long) i * (ks + vs); }

    /** The record number of a key, or -1; marks it seen. */
    int find(ByteBuffer key) {
        if (count == 0) return -1;
        int slot = hash(key) & (index.length - 1);
        while (index[slot] != 0) {
            int i = index[slot] - 1;
            if (data.equalsAt(at(i), key)) {
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

    private static int hash(ByteBuffer key) {
        int h = 1;
        int i = key.position(), end = key.limit();
        for (; i + 8 <= end; i += 8) h = 31 * h + Long.hashCode(key.getLong(i)); // a word at a time: keys are mostly 4 or 8 bytes
        for (; i < end; i++) h = 31 * h + key.get(i);
        return h ^ (h >>> 16);
    }

    @Override
    public void close() {
        if (data != null) data.close();
    }
}
