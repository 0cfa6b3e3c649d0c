package io.bpfcharge.migrate;

import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.NativeInts;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.BitSet;

/**
 * The old map's contents as they were copied (copy-swap of a map programs write): reconciliation compares
 * the old map's final values and the new map's current values against it. Kept in a file next to the
 * journal, so a migration resumed after a crash reconciles against the same baseline. The file is the only
 * copy, and it is read, not mapped: a mapping of it would count in the process's RSS as a second copy of the
 * map. Only an index (5 to 11 bytes per record, none for an array's) and a window of records are in memory; reconciliation reads
 * the map in the same order as the copy did (the kernel's bucket or key order), so the window mostly slides
 * forward. Layout: key size, value size, count (u32 each), then key|value records. An empty baseline
 * (swap-backfill) says every key changed.
 */
final class Baseline implements AutoCloseable {
    private static final int HEADER = 16;
    /** Bytes read at once when the reads go forward: one read per few hundred records. */
    private static final int WINDOW_BYTES = 64 << 10;

    private final FileChannel data; // null when empty
    private final int ks, vs, count;
    /** Open addressing (load at most 3/4): record number + 1, 0 = free; null when the keys are dense. Native, off the heap. */
    private final NativeInts index;
    private final BitSet seen;
    /** Records [first, first + loaded) as read from the file; views of it stay valid until the next call. */
    private final ByteBuffer window;
    private int first, loaded;
    /** The record after the last one found: where the map's next key most likely is. */
    private int next;

    private Baseline(FileChannel data, int ks, int vs, int count) {
        this.data = data;
        this.ks = ks;
        this.vs = vs;
        this.count = count;
        int record = ks + vs;
        this.window = ByteBuffer.allocate(Math.max(record, WINDOW_BYTES / record * record)).order(ByteOrder.nativeOrder());
        this.seen = new BitSet(count);
        this.index = dense() ? null : index();
    }

    /** The index of every record by its key's hash; freed again when reading the file fails half way. */
    private NativeInts index() {
        NativeInts table = new NativeInts(Integer.highestOneBit(Math.max(4, count + count / 3) - 1) << 1);
        try {
            int mask = table.length() - 1;
            for (int i = 0; i < count; i++) {
                int slot = hash(key(i)) & mask;
                while (table.get(slot) != 0) slot = (slot + 1) & mask;
                table.set(slot, i + 1);
            }
            return table;
        } catch (RuntimeException e) {
            table.close();
            throw e;
        }
    }

    /** Whether record i's key is the u32 i, for every i (an array's copy): then the key is the record number. */
    private boolean dense() {
        if (ks != Integer.BYTES) return false;
        for (int i = 0; i < count; i++) if (key(i).getInt(0) != i) return false;
        return true;
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
                // No fdatasync: a process killed at any step leaves the file intact in the page cache, and a power loss
                // or kernel crash takes the maps with it (bpffs is memory), after which the next boot drops this boot's
                // baselines unread (RunDir.of). On a busy disk one fdatasync took up to 400 ms (docs/benchmarks.md,
                // "Node agent"), on the migration's path.
                ch.write(h, 0);
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
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            ByteBuffer h = ByteBuffer.allocate(HEADER).order(ByteOrder.nativeOrder());
            while (h.hasRemaining() && ch.read(h, h.position()) > 0) { /* a short read goes on */ }
            if (h.hasRemaining() || h.getInt(0) == 0) throw new IncompleteException(file);
            return new Baseline(ch, h.getInt(0), h.getInt(4), h.getInt(8));
        } catch (IOException e) {
            closeQuietly(ch);
            throw new java.io.UncheckedIOException(e);
        } catch (RuntimeException e) { // the file ends early: the index was not built
            closeQuietly(ch);
            throw e;
        }
    }

    /**
     * {@link #open}, or empty when the file was never completed: its writer was killed before {@code finish}
     * wrote the header. Then nothing tells which keys changed, and a key the other map holds (an array: non-zero)
     * counts as changed since: its value stays, and only keys it lacks are given back.
     */
    static Baseline openOrEmpty(Path file, int ks, int vs) {
        if (!java.nio.file.Files.exists(file)) return empty(ks, vs);
        try {
            return open(file);
        } catch (java.io.UncheckedIOException e) {
            if (e.getCause() instanceof IncompleteException) return empty(ks, vs);
            throw e;
        }
    }

    /** A file whose writer never wrote its header: it was killed before {@link Writer#finish}. */
    private static final class IncompleteException extends IOException {
        IncompleteException(Path file) { super(file + ": an incomplete baseline (its writer did not finish)"); }
    }

    int count() { return count; }

    /** Record i's key: a view valid until the next call on this baseline. */
    ByteBuffer key(int i) { return window.slice(at(i), ks).order(ByteOrder.nativeOrder()); }

    /** Record i's value: a view valid until the next call on this baseline. */
    ByteBuffer value(int i) { return window.slice(at(i) + ks, vs).order(ByteOrder.nativeOrder()); }

    /** Whether record i's value is {@code value}. */
    boolean holds(int i, ByteBuffer value) { return window.slice(at(i) + ks, vs).mismatch(value) == -1; }

    /** Where record i starts in the window, once it is loaded. */
    private int at(int i) {
        if (i < first || i >= first + loaded) load(i);
        return (i - first) * (ks + vs);
    }

    /**
     * Reads record i into the window: a whole window from it when the reads go forward (the record right
     * after the window), else record i alone (a key out of order: reading a window for it would be wasted).
     */
    private void load(int i) {
        int record = ks + vs;
        int n = i == first + loaded ? Math.min(window.capacity() / record, count - i) : 1;
        window.clear().limit(n * record);
        long at = HEADER + (long) i * record;
        try {
            while (window.hasRemaining()) {
                if (data.read(window, at + window.position()) < 0)
                    throw new IOException("baseline file ends before record " + (i + n) + " of " + count);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        first = i;
        loaded = n;
    }

    /** The record number of a key, or -1; marks it seen. */
    int find(ByteBuffer key) {
        if (count == 0) return -1;
        int i = next < count && key.mismatch(key(next)) == -1 ? next : lookup(key);
        if (i >= 0) {
            seen.set(i);
            next = i + 1;
        }
        return i;
    }

    private int lookup(ByteBuffer key) {
        if (index == null) {
            int i = key.getInt(key.position());
            return i >= 0 && i < count ? i : -1; // record i's key is i
        }
        int mask = index.length() - 1, slot = hash(key) & mask;
        while (index.get(slot) != 0) {
            int i = index.get(slot) - 1;
            if (key.mismatch(key(i)) == -1) return i;
            slot = (slot + 1) & mask;
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
        if (index != null) index.close();
        closeQuietly(data);
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            if (ch != null) ch.close();
        } catch (IOException ignored) {
            // read-only: nothing to lose
        }
    }
}
