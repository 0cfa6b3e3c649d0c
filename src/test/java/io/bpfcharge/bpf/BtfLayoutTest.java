package io.bpfcharge.bpf;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java declarations of C structs and enums ({@link Structs}, {@link MergeSum.Result}) against the
 * C compiler's own view of them: the BTF that clang writes into each bpf/*.bpf.o, and the running
 * kernel's BTF for the kernel's uapi structs. Needs no root (both are world-readable).
 */
class BtfLayoutTest {
    @Test
    void iteratorRecordsMatchTheInventoryObject() throws IOException {
        Btf btf = objectBtf("inventory");
        assertSame(btf.struct("map_record"), Structs.MapRecord.LAYOUT, true);
        assertSame(btf.struct("holder_record"), Structs.HolderRecord.LAYOUT, true);
        assertEquals(Map.of("MAP_CHARGED", (long) Structs.MapRecord.MAP_CHARGED, "MAP_ONLINE", (long) Structs.MapRecord.MAP_ONLINE,
                "MAP_ARENA_PAGES", (long) Structs.MapRecord.MAP_ARENA_PAGES), btf.enumValues("map_record_flags"));
    }

    @Test
    void referenceRecordsMatchTheReferencesObject() throws IOException {
        Btf btf = objectBtf("references");
        assertSame(btf.struct("file_ref"), Structs.FileRef.LAYOUT, true);
        assertSame(btf.struct("map_ref"), Structs.MapRef.LAYOUT, true);
        Map<String, Long> java = new LinkedHashMap<>();
        for (ReferenceIterators.Kind k : ReferenceIterators.Kind.values())
            java.put("REF_" + k.name(), (long) k.ordinal() + Structs.FileRef.FIRST_KIND);
        assertEquals(java, btf.enumValues("ref_kind"));
    }

    /** The OOM map's value as bpfcharge writes it, and the example reader's context as OomMapIT builds it. */
    @Test
    void oomMapValueAndTheExampleReadersContextMatchItsObject() throws IOException {
        Btf btf = objectBtf("oom_policy");
        assertSame(btf.struct("bpfcharge_oom_value"), Structs.OomValue.LAYOUT, true);
        assertSame(btf.struct("oom_candidate"), io.bpfcharge.testing.OomPolicy.CANDIDATE, true);
        assertSame(btf.struct("oom_pick"), io.bpfcharge.testing.OomPolicy.PICK, true);
    }

    @Test
    void mergeSumContextAndResultsMatchItsObject() throws IOException {
        Btf btf = objectBtf("merge_sum");
        assertSame(btf.struct("merge_args"), Structs.MergeArgs.LAYOUT, true);
        Map<String, Long> java = new LinkedHashMap<>();
        for (MergeSum.Result r : MergeSum.Result.values()) java.put("MERGE_" + r.name(), (long) r.ordinal());
        assertEquals(btf.enumValues("merge_result"), java);
    }

    /** uapi structs only grow at their end: what Java declares must be a prefix of the running kernel's. */
    @Test
    void kernelStructsArePrefixesOfTheRunningKernels() throws IOException {
        Path vmlinux = Path.of("/sys/kernel/btf/vmlinux");
        Btf btf = Btf.parse(Files.readAllBytes(vmlinux));
        assertSame(btf.struct("bpf_map_info"), Structs.BpfMapInfo.LAYOUT, false);
        assertSame(btf.struct("bpf_prog_info"), Structs.BpfProgInfo.LAYOUT, false);
        assertSame(btf.struct("linux_dirent64"), Structs.LinuxDirent64.LAYOUT, false);
    }

    /** The check itself fails on a layout that disagrees, and shows both sides. */
    @Test
    void aShiftedMemberFails() throws IOException {
        StructLayout shifted = MemoryLayout.structLayout(ValueLayout.JAVA_INT.withName("pid"),
                MemoryLayout.paddingLayout(4), ValueLayout.JAVA_INT.withName("map_id"),
                MemoryLayout.paddingLayout(12));
        AssertionError e = assertThrows(AssertionError.class,
                () -> assertSame(objectBtf("inventory").struct("holder_record"), shifted, true));
        assertTrue(e.getMessage().contains("map_id@4+4"), e.getMessage());
    }

    /**
     * Member by member: name, byte offset and size. {@code whole}: the sizes agree and Java has no member C
     * lacks; otherwise C may have more members after Java's last.
     */
    private static void assertSame(Btf.Struct c, StructLayout java, boolean whole) {
        List<String> cMembers = new ArrayList<>(), javaMembers = new ArrayList<>();
        for (Btf.Member m : c.members()) cMembers.add(m.name() + "@" + m.offset() + "+" + m.size());
        long offset = 0;
        for (MemoryLayout m : java.memberLayouts()) {
            if (m.name().isPresent()) javaMembers.add(m.name().get() + "@" + offset + "+" + m.byteSize());
            offset += m.byteSize();
        }
        List<String> expected = whole ? cMembers : cMembers.subList(0, Math.min(javaMembers.size(), cMembers.size()));
        assertEquals(expected, javaMembers, "struct " + c.name() + ": C (BTF) vs Java");
        if (whole) assertEquals(c.size(), java.byteSize(), "sizeof(struct " + c.name() + ")");
    }

    private static Btf objectBtf(String name) throws IOException {
        try (InputStream in = BtfLayoutTest.class.getResourceAsStream("/bpf/" + name + ".bpf.o")) {
            assertNotNull(in, name + ".bpf.o on the class path (built by bpf/Makefile)");
            return Btf.ofElf(in.readAllBytes());
        }
    }
}
