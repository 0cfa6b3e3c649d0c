package io.bpfcharge.migrate;

import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Quiescence against a real map: another fd makes it held, closing it makes it quiet again; a map-of-maps slot
 * (a reference that is not a user one, so the loaded programs are listed) is no holder, and neither is the
 * lookup's own program, which uses the map too.
 */
class QuiescenceIT {
    @Test
    void anotherFdHoldsTheMapButASlotAndTheLookupItselfDoNot() {
        ByteBuffer zero = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(0, 0);
        try (MapFd map = MapFd.create(new MapInfo(0, MapType.HASH, "quiet_target", 4, 8, 4, 0, 0, 0, 0, 0, 0, 0), null, null);
             MapFd outer = MapFd.create(new MapInfo(0, MapType.ARRAY_OF_MAPS, "quiet_outer", 4, 4, 1, 0, 0, 0, 0, 0, 0, 0), null, map);
             InventoryIterators it = InventoryIterators.open()) {
            outer.setInnerMap(zero, map);
            int id = map.info().id();
            try (Quiescence q = Quiescence.of(it, map, id)) {
                assertEquals(Optional.empty(), q.await(1, Duration.ZERO), "only our fd, a slot and the lookup");
                try (MapFd second = MapFd.byId(id)) {
                    assertTrue(q.await(1, Duration.ZERO).isPresent(), "a second fd is a holder");
                }
                assertEquals(Optional.empty(), q.await(1, Duration.ZERO), "the second fd is closed");
            }
        }
    }
}
