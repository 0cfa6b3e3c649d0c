package io.bpfcharge.inventory;

/**
 * A memory cgroup that BPF maps are charged to.
 * @param path as /proc/PID/cgroup writes it, relative to the hierarchy root
 * @param online its directory still exists (the kernel has not taken it offline)
 * @param populated a task lives in it or below it
 * @param interior online and populated, but no task of its own and child cgroups below: a charge here came
 *                 from a removed child (reparented), and killing its children's tasks frees none of it
 */
public record Memcg(long id, String path, boolean online, boolean populated, boolean interior) {
    public Memcg(long id, String path, boolean online, boolean populated) { this(id, path, online, populated, false); }

    /** Charges that no OOM kill in this cgroup can free. */
    public boolean stranded() { return !online || !populated || interior; }

    /** Whether this cgroup is {@code top} or below it: {@code top}'s subtree. */
    public boolean within(String top) { return top.equals("/") || path.equals(top) || path.startsWith(top + "/"); }

    /** The pod, container or unit its path names (parsed each call: callers keep it). */
    public io.bpfcharge.cgroup.ContainerIdentity identity() { return io.bpfcharge.cgroup.ContainerIdentity.parse(path); }

    /** "offline", "empty" or "interior" for stranded cgroups, null otherwise. */
    public String strandedReason() { return !online ? "offline" : !populated ? "empty" : interior ? "interior" : null; }
}
