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
 * @param renamed for each migration it finished or undid, the ids of both its maps to the one now at their pins and
 *                slots: a request naming either means that map now (the rerun of a command killed after a pin
 *                was renamed names the replacement, which an undo frees)
 */
record Recovery(List<String> lines, Map<Integer, Integer> renamed) {
    static Recovery run(MemoryHierarchy h, InventoryIterators it, RunDir run) {
        List<String> lines = new ArrayList<>();
        Map<Integer, Integer> renamed = new HashMap<>();
        for (Journal j : Journal.orphans(run)) {
            Journal.Entry e = j.entry();
            if (e.phase().compareTo(Journal.Phase.READY) < 0) {
                Journal.removeNames(e);
                j.finish();
                MigrationHistory.record(run, Result.ROLLED_BACK, e.oldId(), 0, e.bytes(), e.source(), e.target());
                lines.add("undid the interrupted migration of map " + e.oldId() + " (it had not been swapped)");
                if (e.newId() != 0) renamed.put(e.newId(), e.oldId());
                continue;
            }
            // A run of its own: its phases and counts are not the new migration's.
            new MigrationRun(h, it, Migrator.Progress.NONE, run).resume(j, lines).ifPresent(now -> {
                renamed.put(e.oldId(), now);
                renamed.put(e.newId(), now);
            });
        }
        return new Recovery(List.copyOf(lines), Map.copyOf(renamed));
    }

    int follow(int mapId) { return renamed.getOrDefault(mapId, mapId); }
}
