package io.bpfcharge.testing;

import io.bpfcharge.bpf.BpfObject;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    private static int at(String... path) {
        return (int) CANDIDATE.byteOffset(java.util.Arrays.stream(path).map(MemoryLayout.PathElement::groupElement)
                .toArray(MemoryLayout.PathElement[]::new));
    }

    private static final int ID = at("cgroup_id"), USAGE = at("usage"), ADJUSTED = at("adjusted"),
            VERSION = at("value", "version"), BPF_BYTES = at("value", "bpf_bytes"),
            SURVIVING = at("value", "surviving_kill_bytes"), STRANDED = at("value", "stranded_bytes"),
            FIRST = (int) PICK.byteOffset(MemoryLayout.PathElement.groupElement("candidates"));

    /** One candidate as the program read it. */
    public record Read(long cgroupId, long usage, long adjusted, long bpfBytes, long survivingKillBytes, long strandedBytes, int version) {}

    public record Pick(List<Read> candidates, int victim) {}

    /** Runs the example policy in the kernel on these cgroups (id, usage). */
    public static Pick pick(BpfObject policy, long[][] candidates) {
        ByteBuffer ctx = ByteBuffer.allocateDirect((int) PICK.byteSize()).order(ByteOrder.nativeOrder());
        ctx.putInt(0, candidates.length);
        for (int i = 0; i < candidates.length; i++) {
            int at = FIRST + i * (int) CANDIDATE.byteSize();
            ctx.putLong(at + ID, candidates[i][0]);
            ctx.putLong(at + USAGE, candidates[i][1]);
        }
        int ret = policy.testRun("oom_pick", 0, null, ctx);
        if (ret != 0) throw new AssertionError("oom_pick returned " + ret);
        List<Read> out = new ArrayList<>();
        for (int i = 0; i < candidates.length; i++) {
            int at = FIRST + i * (int) CANDIDATE.byteSize();
            out.add(new Read(ctx.getLong(at + ID), ctx.getLong(at + USAGE), ctx.getLong(at + ADJUSTED),
                    ctx.getLong(at + BPF_BYTES), ctx.getLong(at + SURVIVING), ctx.getLong(at + STRANDED),
                    ctx.getInt(at + VERSION)));
        }
        return new Pick(out, ctx.getInt(4));
    }

}
