package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.bpf.MergeSum;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.oom.Reserve;

import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a migration would do, or why it will not: decided from one inventory snapshot and the
 * request, without touching the kernel, so every case is unit-testable.
 */
public sealed interface Plan {
    /** The map the plan is about, as the scan saw it. */
    MapRecord map();

    /** The map is already charged to the target. */
    record Noop(MapRecord map, String target, String message) implements Plan {}

    /** The migration cannot be done as asked; {@code exit} says which documented code. */
    record Refused(MapRecord map, Exit exit, String message) implements Plan {}

    /**
     * A migration to run.
     * @param slots every map-of-maps slot holding the map (empty for a standalone map)
     * @param templateId for a map-of-maps, an inner map to use as the replacement's inner template; else 0
     * @param source the memcg charged now ("/" when the map is not charged, e.g. made from the root cgroup)
     * @param headroom room left under the target's (and its ancestors') limits; empty when unlimited
     */
    record Move(MapRecord map, Kind kind, String source, String target, long targetId, List<MapRecord.Slot> slots,
                List<String> pins, int templateId, OptionalLong headroom, MigrationRequest.Strategy strategy,
                MigrationRequest.Merge merge) implements Plan {
        public MapInfo info() { return map.info(); }

        public long bytes() { return map.bytes(); }
    }

    /**
     * What the target's memory files say, read by the caller.
     * @param headroom room left under the target's (and its ancestors') limits; empty when unlimited
     * @param limit the target's own hard limit; empty when unlimited
     */
    record Room(OptionalLong headroom, OptionalLong limit) {
        public static final Room UNLIMITED = new Room(OptionalLong.empty(), OptionalLong.empty());
    }

    enum Kind {
        /** Inner map of map-of-maps slots: swap each slot. */
        INNER,
        /** Pinned map no program or process holds: replace each pin. */
        STANDALONE
    }

    /** Types that hold kernel objects or streams, or that user space cannot enumerate and copy. */
    Set<String> UNCOPYABLE = Set.of("prog_array", "perf_event_array", "stack_trace", "cgroup_array", "devmap", "sockmap",
            "cpumap", "xskmap", "sockhash", "cgroup_storage", "reuseport_sockarray", "percpu_cgroup_storage", "queue",
            "stack", "sk_storage", "devmap_hash", "struct_ops", "ringbuf", "inode_storage", "task_storage",
            "bloom_filter", "user_ringbuf", "cgrp_storage", "arena");

    /** Types bpfcharge copies. */
    Set<MapType> SUPPORTED = Set.of(MapType.HASH, MapType.ARRAY, MapType.PERCPU_HASH, MapType.PERCPU_ARRAY,
            MapType.LRU_HASH, MapType.LRU_PERCPU_HASH, MapType.LPM_TRIE, MapType.ARRAY_OF_MAPS, MapType.HASH_OF_MAPS);

    int BPF_F_RDONLY = 1 << 3, BPF_F_WRONLY = 1 << 4;

    /** The root memory cgroup's path, as /proc/PID/cgroup writes it. */
    String ROOT = "/";

    static Plan of(Snapshot snapshot, MapRecord m, String target, long targetId, Room room, MigrationRequest request) {
        OptionalLong headroom = room.headroom();
        MapInfo info = m.info();
        String what = describe(m);
        String source = m.memcg() == null ? "/" : m.memcg().path();
        if (target.equals(ROOT))
            return new Refused(m, Exit.REFUSED, "the target is the root memory cgroup, which the kernel charges nothing "
                    + "to: a map created there would be charged to no cgroup; give the cgroup of a container (--to-cgroup) "
                    + "or a process running in one (--to-pid), not a kernel thread or a process in the root cgroup");
        if (!SUPPORTED.contains(info.type())) {
            String why = info.type().equals(MapType.ARENA)
                    ? "its pages are shared with programs and user space mappings by address, which a new map cannot take over"
                    : UNCOPYABLE.contains(info.type().name())
                    ? "it holds kernel objects or a stream that cannot be copied from user space"
                    : "bpfcharge cannot copy this type";
            String article = info.type().name().matches("[aeio].*") ? " is an " : " is a "; // "a user_ringbuf"
            return new Refused(m, Exit.REFUSED, what + article + info.type() + " map: " + why
                    + "; only hash, array, lru, percpu, lpm_trie and map-of-maps maps can be migrated");
        }
        if ((info.flags() & (BPF_F_RDONLY | BPF_F_WRONLY)) != 0)
            return new Refused(m, Exit.REFUSED, what + " was created read-only or write-only for user space, so it "
                    + "cannot be copied: recreate it without BPF_F_RDONLY/BPF_F_WRONLY");
        if (m.memcg() != null && m.memcg().id() == targetId)
            return new Noop(m, target, what + " is already charged to " + target + ": nothing to do");
        if (!m.programs().isEmpty() || !m.processes().isEmpty()) return heldDirectly(m, what);
        Kind kind = m.outer().isEmpty() ? Kind.STANDALONE : Kind.INNER;
        if (kind == Kind.STANDALONE && m.pins().isEmpty())
            return new Refused(m, Exit.REFUSED, what + " is neither pinned nor in a map-of-maps slot: there is no "
                    + "reference to move to a copy");
        int templateId = 0;
        if (info.type().isMapOfMaps()) {
            templateId = snapshot.maps().stream().filter(x -> x.outer().stream().anyMatch(s -> s.outerId() == info.id()))
                    .mapToInt(MapRecord::id).findFirst().orElse(0);
            if (templateId == 0)
                return new Refused(m, Exit.REFUSED, what + " is an empty " + info.type() + ": the kernel does not tell "
                        + "its inner map template, so a twin cannot be created; put one inner map in it first");
        }
        // Writers reach a standalone map through its pin until the rename, and an inner map through its slot
        // until the swap: both are reconciled, so both are summed.
        if (request.merge() == MigrationRequest.Merge.SUM) {
            if (info.valueSize() % 8 != 0 || info.type().isMapOfMaps() || info.type().equals(MapType.LPM_TRIE))
                return new Refused(m, Exit.REFUSED, "--merge sum needs u64 counter values, but " + what + " is a "
                        + info.type() + " map with " + info.valueSize() + "-byte values: use --merge overwrite");
            if (info.keySize() > MergeSum.MAX_KEY || info.valueSize() / 8 > MergeSum.MAX_WORDS)
                return new Refused(m, Exit.REFUSED, "--merge sum takes keys up to " + MergeSum.MAX_KEY + " bytes and values up to "
                        + MergeSum.MAX_WORDS * 8 + " bytes, but " + what + " has " + info.keySize() + "-byte keys and "
                        + info.valueSize() + "-byte values: use --merge overwrite");
        }
        if (request.strategy() == MigrationRequest.Strategy.SWAP_BACKFILL && info.type().isLru())
            return new Refused(m, Exit.REFUSED, "--strategy swap-backfill cannot check that " + what + ", an LRU map, "
                    + "kept every entry (the kernel evicts without an error, and the backfill runs after the swap): "
                    + "use copy-swap, which counts the copy before swapping and rolls back on a loss");
        if (headroom.isPresent() && headroom.getAsLong() < m.bytes())
            return new Refused(m, Exit.NO_ROOM, "memory cgroup " + target + " has " + headroom.getAsLong()
                    + " bytes left under its limit but " + what + " needs " + m.bytes()
                    + ": raise the limit (or free memory there) and run again");
        Refused loop = killLoop(snapshot, m, target, targetId, room.limit(), request.reserve());
        if (loop != null) return loop;
        return new Move(m, kind, source, target, targetId, m.outer(), m.pins(), templateId, headroom,
                request.strategy(), request.merge());
    }

    /**
     * Refused when, after the move, the BPF bytes no OOM kill in the target frees would leave its processes less
     * than the reserve of its limit: the target would be OOM-killed at every start, each kill freeing only the
     * processes' pages. The map itself survives a kill when it is pinned or sits in a pinned map-of-maps.
     */
    private static Refused killLoop(Snapshot snapshot, MapRecord m, String target, long targetId, OptionalLong limit,
                                    Reserve reserve) {
        if (limit.isEmpty()) return null;
        long already = snapshot.cgroups().stream().filter(t -> t.memcg().id() == targetId)
                .mapToLong(CgroupTotal::survivingKillBytes).sum();
        boolean survives = !m.pins().isEmpty() || m.outer().stream().anyMatch(
                s -> snapshot.map(s.outerId()).map(o -> !o.pins().isEmpty()).orElse(false));
        long surviving = already + (survives ? m.bytes() : 0), max = limit.getAsLong();
        if (!survives || !reserve.breached(max, surviving)) return null;
        return new Refused(m, Exit.NO_ROOM, "memory cgroup " + target + " has a limit of " + max + " bytes, and with "
                + describe(m) + " (" + m.bytes() + " bytes) " + surviving + " of them would be BPF bytes no OOM kill frees: "
                + "a kill would free at most " + Reserve.killRoom(max, surviving) + " bytes ("
                + Reserve.killRoomPercent(max, surviving) + "% of the limit), less than the " + reserve.percent()
                + "% reserve for its processes, so the cgroup would be OOM-killed over and over; raise its limit, "
                + "leave the map where it is, or lower --reserve");
    }

    /**
     * A program or process holding the map itself keeps writing to the old map after any swap. What to do differs:
     * a program can look the map up through a map-of-maps slot, which bpfcharge swaps; a process (an application
     * with the map's fd) must either do the same or have the map recharged before it opens it.
     */
    private static Refused heldDirectly(MapRecord m, String what) {
        String progs = m.programs().stream().map(p -> "program " + p.id() + " (" + p.name() + ")")
                .collect(Collectors.joining(", "));
        String procs = m.processes().stream().map(MapRecord.ProcessHolder::describe)
                .collect(Collectors.joining(", "));
        StringBuilder b = new StringBuilder(what).append(" is used directly by ")
                .append(progs.isEmpty() ? procs : procs.isEmpty() ? progs : progs + ", " + procs)
                .append(", which would keep using the old map: its charge cannot move while ")
                .append(procs.isEmpty() ? "they hold it" : "it is held open");
        if (!progs.isEmpty())
            b.append("; let the programs look the map up through a slot of an array_of_maps/hash_of_maps, and "
                    + "bpfcharge swaps a recharged copy into that slot");
        if (!procs.isEmpty())
            b.append("; for the process: let it reach the map through a map-of-maps slot too, or recharge the map "
                    + "before the program starts and opens it (run bpfcharge hook at createRuntime, or migrate "
                    + "while the application is stopped)");
        return new Refused(m, Exit.REFUSED, b.toString());
    }

    static String describe(MapRecord m) {
        return "map " + m.id() + (m.info().name().isEmpty() ? "" : " (" + m.info().name() + ")");
    }
}
