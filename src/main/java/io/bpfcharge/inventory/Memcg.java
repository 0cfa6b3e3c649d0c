package io.bpfcharge.inventory;

/**
 * A memory cgroup that BPF maps are charged to.
 * @param path as /proc/PID/cgroup writes it, relative to the hierarchy root
 * @param online its directory still exists (the kernel has not taken it offline)
 * @param populated a task lives in it or below it
 */
public record Memcg(long id, String path, boolean online, boolean populated) {
    /** Charges that no OOM kill in this cgroup can free. */
    public boolean stranded() { return !online || !populated; }

    /** The pod, container or unit its path names (parsed each call: callers keep it). */
    public io.bpfcharge.cgroup.ContainerIdentity identity() { return io.bpfcharge.cgroup.ContainerIdentity.parse(path); }

    /** "offline" or "empty" for stranded cgroups, null otherwise. */
    public String strandedReason() { return !online ? "offline" : !populated ? "empty" : null; }
}
