package io.bpfcharge.inventory;

import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a map-of-maps: from user space, a slot's value is the inner map's id. Returns inner id to slots. */
final class OuterSlots {
    private OuterSlots() {}

    static Map<Integer, List<MapRecord.Slot>> read(MapFd outer, MapInfo info) {
        Map<Integer, List<MapRecord.Slot>> slots = new HashMap<>();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(info.keySize());
            MemorySegment next = arena.allocate(info.keySize());
            MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
            MemorySegment cur = MemorySegment.NULL;
            while (outer.nextKey(cur, next)) {
                key.copyFrom(next);
                cur = key;
                if (outer.lookup(key, value)) {
                    int inner = value.get(ValueLayout.JAVA_INT, 0);
                    slots.computeIfAbsent(inner, k -> new ArrayList<>()).add(new MapRecord.Slot(info.id(), hex(key)));
                }
            }
        }
        return slots;
    }

    static String hex(MemorySegment key) {
        return HexFormat.of().formatHex(key.toArray(ValueLayout.JAVA_BYTE));
    }
}
