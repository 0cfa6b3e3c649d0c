package io.bpfcharge.bpf;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ReadOnlyBufferException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The batch buffer without a kernel: entries added are read back in place, in native order, and nothing else fits. */
class MapBatchTest {
    private static ByteBuffer u32(int v) { return ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, v); }

    private static ByteBuffer u64(long v) { return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(0, v); }

    @Test
    void entriesAddedAreViewedInPlaceReadOnlyAndTheBatchRefusesWrongSizesAndOverflow() {
        try (MapBatch b = new MapBatch(4, 8, 3)) {
            for (int i = 0; i < 3; i++) b.add(u32(i), u64(i * 1_000_003L));
            assertEquals(3, b.size());
            for (int i = 0; i < 3; i++) {
                assertEquals(i, b.key(i).getInt(0));
                assertEquals(i * 1_000_003L, b.value(i).getLong(0));
                assertEquals(4, b.key(i).remaining());
            }
            assertThrows(IllegalStateException.class, () -> b.add(u32(9), u64(9)));
            assertThrows(IndexOutOfBoundsException.class, () -> b.key(3));
            assertThrows(ReadOnlyBufferException.class, () -> b.value(0).putLong(0, 1));
            b.clear();
            assertEquals(0, b.size());
            assertThrows(IllegalArgumentException.class, () -> b.add(u64(1), u64(1)));
            assertThrows(IllegalArgumentException.class, () -> b.add(u32(1), u32(1)));
        }
    }
}
