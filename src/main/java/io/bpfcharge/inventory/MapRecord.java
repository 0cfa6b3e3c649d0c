package io.bpfcharge.inventory;

import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.host.ProcessInfo;

import java.time.Instant;
import java.util.List;

/**
 * Everything one scan learned about a map.
 * @param bytes memory use as the kernel reports it (fdinfo memlock; for an arena, its allocated pages where counted)
 * @param memcg the cgroup its memory is charged to; null when not charged (e.g. made from the root cgroup)
 * @param outer every map-of-maps slot that holds it
 */
public record MapRecord(MapInfo info, long bytes, Memcg memcg, List<String> pins, List<Slot> outer,
                        List<ProcessHolder> processes, List<ProgramHolder> programs) {
    public int id() { return info.id(); }

    public boolean pinned() { return !pins.isEmpty(); }

    /** A slot of an outer map-of-maps: the outer map's id and the key, in hex. */
    @com.fasterxml.jackson.databind.annotation.JsonNaming(com.fasterxml.jackson.databind.PropertyNamingStrategies.SnakeCaseStrategy.class) // in journal files: outer_id
    public record Slot(int outerId, String key) {}

    /**
     * A process with an fd on the map.
     * @param comm its name as the kernel's task has it
     * @param process who runs it, read when the scan saw it; null when it exited before it could be read, or when
     *                the scan did not read it ({@link Inventory#processFacts})
     */
    public record ProcessHolder(long pid, String comm, ProcessInfo process) {
        /** Reads who runs it now. */
        public static ProcessHolder of(long pid, String comm) {
            return new ProcessHolder(pid, comm, ProcessInfo.of(pid).orElse(null));
        }

        /**
         * "process 4711 (python3 /app/server.py, user app (uid 1000), running 3 h)", for a message; who runs it is
         * read now when the scan did not.
         */
        public String describe() {
            ProcessInfo p = process != null ? process : ProcessInfo.of(pid).orElse(null);
            return "process " + pid + " (" + (p == null ? comm : p.summary(comm, Instant.now())) + ")";
        }
    }

    public record ProgramHolder(int id, String name) {}
}
