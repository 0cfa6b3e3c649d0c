package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.OomValue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The map {@code serve --oom-map PIN} keeps for BPF OOM policies (bpf/bpfcharge_oom.h): an array_of_maps
 * pinned at PIN whose one slot holds a hash map, cgroup id to struct bpfcharge_oom_value. Each
 * {@link #publish} fills a new hash map and swaps it into the slot, one atomic update: a BPF reader sees
 * one whole scan, never a value half written (an element of a hash map updated in place from user space
 * can be recycled while a program still reads it), and cgroups that hold no charge any more are gone.
 * The old hash map is freed once no reader holds it.
 */
public final class OomMap implements AutoCloseable {
    /** BPFCHARGE_OOM_VERSION. */
    public static final int VERSION = 1;
    private static final int BPF_F_NO_PREALLOC = 1;
    private static final String NAME = "bpfcharge_oom";

    /** One memory cgroup's entry. */
    public record Entry(long cgroupId, long bpfBytes, long survivingKillBytes, long strandedBytes) {}

    private final MapFd outer;

    private OomMap(MapFd outer) { this.outer = outer; }

    /**
     * Opens the map pinned at {@code pin}, or creates and pins it: readers loaded against an earlier daemon's
     * map keep reading across a restart. Throws when the pin holds something else.
     */
    public static OomMap openOrCreate(Path pin) {
        if (Files.exists(pin)) {
            BpfFd fd = BpfFd.openPin(pin);
            if (!(fd instanceof MapFd map)) {
                fd.close();
                throw new BpfException("use " + pin + " as the OOM map: it holds no map", Errno.EEXIST);
            }
            MapInfo i = map.info();
            if (!i.type().equals(MapType.ARRAY_OF_MAPS) || i.keySize() != 4 || i.maxEntries() != 1) {
                map.close();
                throw new BpfException("use " + pin + " as the OOM map: it holds a " + i.type().name() + " map, not bpfcharge's", Errno.EEXIST);
            }
            return new OomMap(map);
        }
        try (MapFd template = inner(1)) {
            MapFd outer = MapFd.create(new MapInfo(0, MapType.ARRAY_OF_MAPS, NAME, 4, 4, 1, 0, 0, 0, 0, 0, 0, 0), null, template);
            try {
                outer.pin(pin);
            } catch (RuntimeException e) {
                outer.close();
                throw e;
            }
            return new OomMap(outer);
        }
    }

    /**
     * A hash map of bpfcharge_oom.h's inner shape, sized for {@code entries}: a map-of-maps slot takes hash maps
     * of any max_entries (only arrays must match the template's).
     */
    private static MapFd inner(int entries) {
        return MapFd.create(new MapInfo(0, MapType.HASH, NAME, 8, (int) OomValue.LAYOUT.byteSize(), Math.max(64, entries),
                BPF_F_NO_PREALLOC, 0, 0, 0, 0, 0, 0), null, null);
    }

    /** Replaces what readers see with these entries, at once. */
    public void publish(List<Entry> entries) {
        try (MapFd next = inner(entries.size()); Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(ValueLayout.JAVA_LONG), value = arena.allocate(OomValue.LAYOUT);
            for (Entry e : entries) {
                key.set(ValueLayout.JAVA_LONG, 0, e.cgroupId());
                value.fill((byte) 0);
                OomValue.VERSION.set(value, 0L, VERSION);
                OomValue.BPF_BYTES.set(value, 0L, e.bpfBytes());
                OomValue.SURVIVING_KILL_BYTES.set(value, 0L, e.survivingKillBytes());
                OomValue.STRANDED_BYTES.set(value, 0L, e.strandedBytes());
                next.update(key, value, MapFd.BPF_NOEXIST);
            }
            MemorySegment slot = arena.allocate(ValueLayout.JAVA_INT), fd = arena.allocateFrom(ValueLayout.JAVA_INT, next.fd());
            outer.update(slot, fd, MapFd.BPF_ANY); // the slot now holds the map; the old one goes with its last reader
        }
    }

    @Override
    public void close() { outer.close(); }
}
