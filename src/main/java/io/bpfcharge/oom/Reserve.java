package io.bpfcharge.oom;

/**
 * The share of a memory cgroup's hard limit that its processes must keep once BPF bytes that survive a kill are
 * charged there. An OOM kill (with {@code memory.oom.group}, every task) frees only the processes' pages: a cgroup
 * whose surviving BPF bytes leave its processes less than they need is OOM-killed at every start, and each kill
 * frees at most {@link #killRoom}. bpfcharge cannot know what the processes need, so it asks for a share of the limit.
 * @param percent of the limit; 0 turns the check off
 */
public record Reserve(int percent) {
    /** A quarter of the limit: a pinned map may take up to three quarters of a container's memory.max. */
    public static final Reserve DEFAULT = new Reserve(25);

    public Reserve {
        if (percent < 0 || percent > 100) throw new IllegalArgumentException("a reserve is 0 to 100 percent, not " + percent);
    }

    /** The most a kill of every task can free under {@code limit}: what the surviving BPF bytes leave. */
    public static long killRoom(long limit, long survivingBytes) { return Math.max(0, limit - survivingBytes); }

    /** The surviving BPF bytes leave the processes less than this share of {@code limit}. */
    public boolean breached(long limit, long survivingBytes) {
        return killRoom(limit, survivingBytes) < (double) limit * percent / 100;
    }

    /** What a kill can free, as a whole percentage of the limit (rounded down). */
    public static long killRoomPercent(long limit, long survivingBytes) {
        return limit == 0 ? 0 : (long) ((double) killRoom(limit, survivingBytes) * 100 / limit);
    }
}
