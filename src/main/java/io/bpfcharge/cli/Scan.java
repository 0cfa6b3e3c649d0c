package io.bpfcharge.cli;

import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.migrate.Requests;
import io.bpfcharge.provenance.OriginStore;

/** The preflight checks and one scan, as every reporting command starts. */
final class Scan {
    private Scan() {}

    static Snapshot once() {
        Checks.requireAll();
        try (Inventory inv = new Inventory(MemoryHierarchy.detect())) {
            inv.origins(OriginStore.reader(Environment.origins()));
            return inv.scan();
        }
    }

    /** One scan cut to a memory cgroup's subtree ({@code --cgroup}; null: everything). The whole scan comes first, so
     *  that what is uncharged or charged elsewhere is known. */
    static Snapshot within(String cgroup) {
        if (cgroup == null) return once();
        String under = Requests.cgroup(MemoryHierarchy.detect(), cgroup);
        return once().within(under);
    }
}
