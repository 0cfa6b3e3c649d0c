package io.bpfcharge.bpf;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file mapped read-only and read in place, of any size, unmapped at {@link #close} rather than whenever
 * the collector frees a MappedByteBuffer: a deleted file's pages (in tmpfs, memory) go at once.
 */
public final class MappedFile implements AutoCloseable {
    private static final int CHUNK_BITS = 30;

    private final Arena arena;
    private final MemorySegment data;
    /** A view per GiB (a ByteBuffer is int-indexed), made once: a view per slice costs more than the lookup it serves. */
    private final ByteBuffer[] chunks;

    private MappedFile(Arena arena, MemorySegment data) {
        this.arena = arena;
        this.data = data;
        chunks = new ByteBuffer[(int) ((data.byteSize() + (1L << CHUNK_BITS) - 1) >>> CHUNK_BITS)];
        for (int c = 0; c < chunks.length; c++) {
            long at = (long) c << CHUNK_BITS;
            chunks[c] = data.asSlice(at, Math.min(1L << CHUNK_BITS, data.byteSize() - at)).asByteBuffer();
        }
    }

    public static MappedFile open(Path file) {
        Arena arena = Arena.ofConfined();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return new MappedFile(arena, ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena));
        } catch (IOException e) {
            arena.close();
            throw new UncheckedIOException(e);
        }
    }

    public long size() { return data.byteSize(); }

    /** {@code length} bytes from {@code offset}: a read-only view in the platform's byte order, valid until close. */
    public ByteBuffer slice(long offset, int length) {
        int c = (int) (offset >>> CHUNK_BITS), at = (int) (offset & ((1L << CHUNK_BITS) - 1));
        ByteBuffer b = c < chunks.length && at + length <= chunks[c].capacity() ? chunks[c].slice(at, length)
                : data.asSlice(offset, length).asByteBuffer(); // across a GiB boundary
        return b.order(ByteOrder.nativeOrder());
    }

    /** Whether the bytes at {@code offset} are {@code b}'s remaining bytes: a comparison without a view. */
    public boolean equalsAt(long offset, ByteBuffer b) {
        MemorySegment other = MemorySegment.ofBuffer(b);
        return MemorySegment.mismatch(data, offset, offset + other.byteSize(), other, 0, other.byteSize()) == -1;
    }

    @Override
    public void close() { arena.close(); }
}
