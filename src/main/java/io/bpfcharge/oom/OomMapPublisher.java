package io.bpfcharge.oom;

import io.bpfcharge.bpf.OomMap;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.Snapshot;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes every scan into the pinned OOM map (bpf/bpfcharge_oom.h) for BPF OOM policies: one entry per memcg
 * holding BPF charges, keyed by its cgroup id. A failed write is reported once until writes work again, and
 * never stops the scan it follows.
 */
public final class OomMapPublisher implements Consumer<Snapshot>, AutoCloseable {
    private final OomMap map;
    private final PrintStream log;
    private String lastError;

    public OomMapPublisher(OomMap map, PrintStream log) {
        this.map = map;
        this.log = log;
    }

    static List<OomMap.Entry> entries(Snapshot s) {
        return s.cgroups().stream().map(OomMapPublisher::entry).toList();
    }

    private static OomMap.Entry entry(CgroupTotal t) {
        return new OomMap.Entry(t.memcg().id(), t.bpfBytes(), t.survivingKillBytes(), t.strandedBytes());
    }

    @Override
    public synchronized void accept(Snapshot s) {
        try {
            map.publish(entries(s));
            lastError = null;
        } catch (RuntimeException e) {
            if (!String.valueOf(e.getMessage()).equals(lastError)) log.println("bpfcharge: oom map: " + e.getMessage());
            lastError = String.valueOf(e.getMessage());
        }
    }

    @Override
    public void close() { map.close(); }
}
