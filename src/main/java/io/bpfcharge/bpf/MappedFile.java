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
    private final Arena arena;
    private final MemorySegment data;

    private MappedFile(Arena arena, MemorySegment data) {
        this.arena = arena;
        this.data = data;
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
        return data.asSlice(offset, length).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    @Override
    public void close() { arena.close(); }
}
