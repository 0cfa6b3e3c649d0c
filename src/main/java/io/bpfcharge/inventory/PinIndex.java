package io.bpfcharge.inventory;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.Bpffs;
import io.bpfcharge.bpf.FdInfo;
import io.bpfcharge.bpf.MapFd;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Which map each pin holds, remembered across scans: a pin that keeps its inode holds the same object
 * (see {@link Bpffs.Pin}), so only new or replaced pins are opened. A daemon's scans then cost a
 * directory listing, not three syscalls per pin.
 */
final class PinIndex {
    /**
     * What a pin held when it had this inode; mapId 0 when it holds a program, link or BTF, and then
     * {@code other} names the program or link (null for BTF).
     */
    private record Known(long ino, int mapId, FdInfo.ProgramOrLink other) {}

    private Map<String, Known> known = Map.of();

    /**
     * Map id to its pins, for every pin listed now. {@code opened} sees each map opened from a pin not
     * known before, while its fd is open (the scan reads its bytes there instead of opening it again).
     */
    Map<Integer, List<String>> resolve(List<Bpffs.Pin> listed, Consumer<MapFd.Pinned> opened) {
        Map<String, Known> now = HashMap.newHashMap(listed.size());
        List<Bpffs.Pin> unknown = new ArrayList<>();
        for (Bpffs.Pin p : listed) {
            Known k = known.get(p.path());
            if (k != null && k.ino() == p.ino()) now.put(p.path(), k);
            else unknown.add(p);
        }
        // A few syscalls per pin; two cores nearly halve a first scan of 10,000 pins.
        Map<String, Known> learned = new ConcurrentHashMap<>();
        unknown.parallelStream().forEach(p -> {
            Known k = open(p, opened);
            if (k != null) learned.put(p.path(), k);
        });
        now.putAll(learned);
        known = now; // pins gone since the last scan are forgotten

        Map<Integer, List<String>> byMap = new HashMap<>();
        for (Bpffs.Pin p : listed) {
            Known k = known.get(p.path());
            if (k != null && k.mapId() != 0) byMap.computeIfAbsent(k.mapId(), id -> new ArrayList<>(1)).add(p.path());
        }
        return byMap;
    }

    /** Every pinned program and link, as of the last {@link #resolve}: a kill never frees what they keep. */
    List<FdInfo.ProgramOrLink> programsAndLinks() {
        return known.values().stream().map(Known::other).filter(o -> o != null).toList();
    }

    /** Null when the pin is gone since it was listed. */
    private static Known open(Bpffs.Pin p, Consumer<MapFd.Pinned> opened) {
        MapFd.Pinned map;
        try {
            map = MapFd.openPinned(Path.of(p.path()));
        } catch (BpfException e) {
            return null;
        }
        if (map == null) {
            try {
                return new Known(p.ino(), 0, BpfFd.pinnedProgramOrLink(Path.of(p.path())));
            } catch (BpfException e) {
                return null;
            }
        }
        try (map) {
            opened.accept(map);
            return new Known(p.ino(), map.fdinfo().mapId(), null);
        }
    }
}
