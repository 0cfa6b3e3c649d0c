package io.bpfcharge.cli;

import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.Snapshot;
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
}
