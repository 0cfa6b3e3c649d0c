package io.bpfcharge.inventory;

import io.bpfcharge.bpf.InventoryIterators;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Processes that hold a map fd: a map they hold cannot be freed by unpinning it. */
final class Holders {
    private Holders() {}

    /**
     * The map_holders iterator's processes (named in the kernel) as holders, by map id, each read once however
     * many maps it holds. This process is left out: it holds fds only while scanning.
     * @param facts whether to read who runs each one ({@link MapRecord.ProcessHolder#process}); null when not
     */
    static Map<Integer, List<MapRecord.ProcessHolder>> processes(Map<Integer, List<InventoryIterators.Holder>> byMap, boolean facts) {
        long self = ProcessHandle.current().pid();
        Map<Integer, List<MapRecord.ProcessHolder>> holders = new HashMap<>();
        Map<Long, MapRecord.ProcessHolder> read = new HashMap<>();
        byMap.forEach((mapId, procs) -> {
            List<MapRecord.ProcessHolder> l = new ArrayList<>(procs.size());
            for (InventoryIterators.Holder p : procs)
                if (p.pid() != self) l.add(read.computeIfAbsent(p.pid(), pid -> facts
                        ? MapRecord.ProcessHolder.of(pid, p.comm()) : new MapRecord.ProcessHolder(pid, p.comm(), null)));
            if (!l.isEmpty()) holders.put(mapId, l);
        });
        return holders;
    }
}
