package io.bpfcharge.inventory;

import io.bpfcharge.bpf.MapBatch;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a map-of-maps: from user space, a slot's value is the inner map's id. Returns inner id to slots. */
final class OuterSlots {
    /** Slots read per pass. */
    private static final int BATCH = 256;

    private OuterSlots() {}

    static Map<Integer, List<MapRecord.Slot>> read(MapFd outer, MapInfo info) {
        Map<Integer, List<MapRecord.Slot>> slots = new HashMap<>();
        try (MapBatch batch = MapBatch.of(info, BATCH)) {
            boolean more = true;
            while (more) {
                more = outer.lookupElements(batch);
                for (int i = 0; i < batch.size(); i++)
                    slots.computeIfAbsent(batch.value(i).getInt(0), k -> new ArrayList<>())
                            .add(new MapRecord.Slot(info.id(), hex(batch.key(i))));
            }
        }
        return slots;
    }

    private static String hex(ByteBuffer key) {
        byte[] bytes = new byte[key.remaining()];
        key.get(bytes);
        return HexFormat.of().formatHex(bytes);
    }
}
