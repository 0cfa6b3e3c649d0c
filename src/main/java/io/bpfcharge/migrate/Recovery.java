package io.bpfcharge.migrate;

import io.bpfcharge.bpf.InventoryIterators;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The first step of every migration, and a daemon's on its own: finishes or undoes each migration whose process
 * died (a journal no live process locks). Before READY nothing but temporary names existed: they are removed.
 * From READY on, the run is resumed with the same steps a new run uses.
 * @param lines one line per journal, for the user
 * @param renamed old map id to its replacement's, for each migration it finished (a request naming the old map
 *                means the replacement now)
 */
record Recovery(List<String> lines, Map<Integer, Integer> renamed) {
    static Recovery run(MemoryHierarchy h, InventoryIterators it) {
        List<String> lines = new ArrayList<>();
        Map<Integer, Integer> renamed = new HashMap<>();
        for (Journal j : Journal.orphans()) {
            Journal.Entry e = j.entry();
            if (e.phase().compareTo(Journal.Phase.READY) < 0) {
                Journal.removeNames(e);
                j.finish();
                MigrationHistory.record(MigrationEvent.Result.ROLLED_BACK, e.oldId(), 0, e.bytes(), e.source(), e.target());
                lines.add("undid the interrupted migration of map " + e.oldId() + " (it had not been swapped)");
                continue;
            }
            // A run of its own: its phases and counts are not the new migration's.
            new MigrationRun(h, it, Migrator.Progress.NONE).resume(j, lines).ifPresent(id -> renamed.put(e.oldId(), id));
        }
        return new Recovery(List.copyOf(lines), Map.copyOf(renamed));
    }

    int follow(int mapId) { return renamed.getOrDefault(mapId, mapId); }
}
