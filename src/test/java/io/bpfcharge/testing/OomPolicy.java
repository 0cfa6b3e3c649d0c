package io.bpfcharge.testing;

import io.bpfcharge.bpf.BpfObject;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/** bpf/oom_policy.bpf.c, the example reader of the OOM map, run by the kernel through BPF_PROG_TEST_RUN. */
public final class OomPolicy {
    private OomPolicy() {}

    /** struct bpfcharge_oom_value, struct oom_candidate and struct oom_pick of bpf/oom_policy.bpf.c (BtfLayoutTest checks them). */
    public static final StructLayout VALUE = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("version"),
            ValueLayout.JAVA_INT.withName("reserved"), ValueLayout.JAVA_LONG.withName("bpf_bytes"),
            ValueLayout.JAVA_LONG.withName("surviving_kill_bytes"), ValueLayout.JAVA_LONG.withName("stranded_bytes"));
    public static final StructLayout CANDIDATE = MemoryLayout.structLayout(ValueLayout.JAVA_LONG.withName("cgroup_id"),
            ValueLayout.JAVA_LONG.withName("usage"), ValueLayout.JAVA_LONG.withName("adjusted"), VALUE.withName("value"));
    public static final int CANDIDATES = 8;
    public static final StructLayout PICK = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("count"),
            ValueLayout.JAVA_INT.withName("victim"), MemoryLayout.sequenceLayout(CANDIDATES, CANDIDATE).withName("candidates"));

    private static long at(String... path) {
        return CANDIDATE.byteOffset(java.util.Arrays.stream(path).map(MemoryLayout.PathElement::groupElement)
                .toArray(MemoryLayout.PathElement[]::new));
    }

    private static final long ID = at("cgroup_id"), USAGE = at("usage"), ADJUSTED = at("adjusted"),
            VERSION = at("value", "version"), BPF_BYTES = at("value", "bpf_bytes"),
            SURVIVING = at("value", "surviving_kill_bytes"), STRANDED = at("value", "stranded_bytes"),
            FIRST = PICK.byteOffset(MemoryLayout.PathElement.groupElement("candidates"));

    /** One candidate as the program read it. */
    public record Read(long cgroupId, long usage, long adjusted, long bpfBytes, long survivingKillBytes, long strandedBytes, int version) {}

    public record Pick(List<Read> candidates, int victim) {}

    /** Runs the example policy in the kernel on these cgroups (id, usage). */
    public static Pick pick(BpfObject policy, long[][] candidates) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment ctx = arena.allocate(PICK);
            ctx.set(ValueLayout.JAVA_INT, 0, candidates.length);
            for (int i = 0; i < candidates.length; i++) {
                long at = FIRST + i * CANDIDATE.byteSize();
                ctx.set(ValueLayout.JAVA_LONG, at + ID, candidates[i][0]);
                ctx.set(ValueLayout.JAVA_LONG, at + USAGE, candidates[i][1]);
            }
            int ret = policy.testRun("oom_pick", 0, MemorySegment.NULL, ctx);
            if (ret != 0) throw new AssertionError("oom_pick returned " + ret);
            List<Read> out = new ArrayList<>();
            for (int i = 0; i < candidates.length; i++) {
                long at = FIRST + i * CANDIDATE.byteSize();
                out.add(new Read(ctx.get(ValueLayout.JAVA_LONG, at + ID), ctx.get(ValueLayout.JAVA_LONG, at + USAGE),
                        ctx.get(ValueLayout.JAVA_LONG, at + ADJUSTED), ctx.get(ValueLayout.JAVA_LONG, at + BPF_BYTES),
                        ctx.get(ValueLayout.JAVA_LONG, at + SURVIVING), ctx.get(ValueLayout.JAVA_LONG, at + STRANDED),
                        ctx.get(ValueLayout.JAVA_INT, at + VERSION)));
            }
            return new Pick(out, ctx.get(ValueLayout.JAVA_INT, 4));
        }
    }

}
