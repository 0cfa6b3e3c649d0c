package io.bpfcharge.bpf;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Every C struct the bindings read or write, declared once with the C member names, with a handle per
 * member used. Kernel structs are checked against the running kernel's BTF and the records of
 * bpf/*.bpf.c against the compiled objects' BTF (BtfLayoutTest); libbpf's option structs are as in
 * libbpf 1.1's bpf.h, which later versions only extend (each starts with its own size).
 */
final class Structs {
    private Structs() {}

    /** struct bpf_map_info (include/uapi/linux/bpf.h) up to map_extra: older and newer kernels copy what both know. */
    static final class BpfMapInfo {
        static final StructLayout LAYOUT = struct("bpf_map_info", u32("type"), u32("id"), u32("key_size"),
                u32("value_size"), u32("max_entries"), u32("map_flags"), chars("name", 16), u32("ifindex"),
                u32("btf_vmlinux_value_type_id"), u64("netns_dev"), u64("netns_ino"), u32("btf_id"),
                u32("btf_key_type_id"), u32("btf_value_type_id"), u32("btf_vmlinux_id"), u64("map_extra"));
        static final VarHandle TYPE = field(LAYOUT, "type"), ID = field(LAYOUT, "id"),
                KEY_SIZE = field(LAYOUT, "key_size"), VALUE_SIZE = field(LAYOUT, "value_size"),
                MAX_ENTRIES = field(LAYOUT, "max_entries"), MAP_FLAGS = field(LAYOUT, "map_flags"),
                IFINDEX = field(LAYOUT, "ifindex"), BTF_VMLINUX_VALUE_TYPE_ID = field(LAYOUT, "btf_vmlinux_value_type_id"),
                BTF_ID = field(LAYOUT, "btf_id"), BTF_KEY_TYPE_ID = field(LAYOUT, "btf_key_type_id"),
                BTF_VALUE_TYPE_ID = field(LAYOUT, "btf_value_type_id"), MAP_EXTRA = field(LAYOUT, "map_extra");
        static final long NAME = offset(LAYOUT, "name");
    }

    /** struct bpf_prog_info (include/uapi/linux/bpf.h) up to name. */
    static final class BpfProgInfo {
        static final StructLayout LAYOUT = struct("bpf_prog_info", u32("type"), u32("id"), chars("tag", 8),
                u32("jited_prog_len"), u32("xlated_prog_len"), u64("jited_prog_insns"), u64("xlated_prog_insns"),
                u64("load_time"), u32("created_by_uid"), u32("nr_map_ids"), u64("map_ids"), chars("name", 16));
        static final VarHandle TYPE = field(LAYOUT, "type"), ID = field(LAYOUT, "id"),
                NR_MAP_IDS = field(LAYOUT, "nr_map_ids"), MAP_IDS = field(LAYOUT, "map_ids");
        static final long NAME = offset(LAYOUT, "name");
    }

    /** struct linux_dirent64 (include/linux/dirent.h), as getdents64 writes it; d_name runs to its NUL. */
    static final class LinuxDirent64 {
        static final StructLayout LAYOUT = struct("linux_dirent64", u64("d_ino"), u64("d_off"),
                JAVA_SHORT.withName("d_reclen"), JAVA_BYTE.withName("d_type"), chars("d_name", 0));
        static final VarHandle D_INO = field(LAYOUT, "d_ino"), D_RECLEN = field(LAYOUT, "d_reclen"),
                D_TYPE = field(LAYOUT, "d_type");
        static final long D_NAME = offset(LAYOUT, "d_name");
    }

    /** struct bpf_map_create_opts (libbpf bpf.h) up to map_ifindex. */
    static final class MapCreateOpts {
        static final StructLayout LAYOUT = struct("bpf_map_create_opts", u64("sz"), u32("btf_fd"),
                u32("btf_key_type_id"), u32("btf_value_type_id"), u32("btf_vmlinux_value_type_id"),
                u32("inner_map_fd"), u32("map_flags"), u64("map_extra"), u32("numa_node"), u32("map_ifindex"));
        static final VarHandle SZ = field(LAYOUT, "sz"), BTF_FD = field(LAYOUT, "btf_fd"),
                BTF_KEY_TYPE_ID = field(LAYOUT, "btf_key_type_id"), BTF_VALUE_TYPE_ID = field(LAYOUT, "btf_value_type_id"),
                BTF_VMLINUX_VALUE_TYPE_ID = field(LAYOUT, "btf_vmlinux_value_type_id"),
                INNER_MAP_FD = field(LAYOUT, "inner_map_fd"), MAP_FLAGS = field(LAYOUT, "map_flags"),
                MAP_EXTRA = field(LAYOUT, "map_extra"), MAP_IFINDEX = field(LAYOUT, "map_ifindex");
    }

    /** struct bpf_map_batch_opts (libbpf bpf.h). */
    static final class MapBatchOpts {
        static final StructLayout LAYOUT = struct("bpf_map_batch_opts", u64("sz"), u64("elem_flags"), u64("flags"));
        static final VarHandle SZ = field(LAYOUT, "sz"), ELEM_FLAGS = field(LAYOUT, "elem_flags");
    }

    /** struct bpf_test_run_opts (libbpf bpf.h) up to batch_size. */
    static final class TestRunOpts {
        static final StructLayout LAYOUT = struct("bpf_test_run_opts", u64("sz"), ADDRESS.withName("data_in"),
                ADDRESS.withName("data_out"), u32("data_size_in"), u32("data_size_out"), ADDRESS.withName("ctx_in"),
                ADDRESS.withName("ctx_out"), u32("ctx_size_in"), u32("ctx_size_out"), u32("retval"), u32("repeat"),
                u32("duration"), u32("flags"), u32("cpu"), u32("batch_size"));
        static final VarHandle SZ = field(LAYOUT, "sz"), DATA_IN = field(LAYOUT, "data_in"),
                DATA_SIZE_IN = field(LAYOUT, "data_size_in"), CTX_IN = field(LAYOUT, "ctx_in"),
                CTX_SIZE_IN = field(LAYOUT, "ctx_size_in"), RETVAL = field(LAYOUT, "retval"),
                REPEAT = field(LAYOUT, "repeat");
    }

    /**
     * struct map_record (bpf/inventory.h), one per map from the map_memcg iterator. Parsed from a heap copy
     * with these offsets rather than through handles: a CLI run parses 10,000 of them before the JIT has
     * compiled anything, where a ByteBuffer read costs a fraction of a handle's.
     */
    static final class MapRecord {
        static final StructLayout LAYOUT = struct("map_record", u32("map_id"), u32("flags"), u64("cgroup_id"),
                u64("parent_cgroup_id"), u32("map_type"), u32("key_size"), u32("value_size"), u32("max_entries"),
                u32("map_flags"), u32("btf_id"), u32("btf_key_type_id"), u32("btf_value_type_id"),
                u32("btf_vmlinux_value_type_id"), u32("users"), u64("map_extra"), chars("map_name", 16),
                chars("cgroup_name", 64), u64("arena_pages"));
        static final int SIZE = (int) LAYOUT.byteSize();
        static final int MAP_ID = at("map_id"), FLAGS = at("flags"), CGROUP_ID = at("cgroup_id"),
                PARENT_CGROUP_ID = at("parent_cgroup_id"), MAP_TYPE = at("map_type"), KEY_SIZE = at("key_size"),
                VALUE_SIZE = at("value_size"), MAX_ENTRIES = at("max_entries"), MAP_FLAGS = at("map_flags"),
                BTF_ID = at("btf_id"), BTF_KEY_TYPE_ID = at("btf_key_type_id"), BTF_VALUE_TYPE_ID = at("btf_value_type_id"),
                BTF_VMLINUX_VALUE_TYPE_ID = at("btf_vmlinux_value_type_id"), MAP_EXTRA = at("map_extra"),
                USERS = at("users"), MAP_NAME = at("map_name"), CGROUP_NAME = at("cgroup_name"),
                ARENA_PAGES = at("arena_pages");
        /** enum map_record_flags. */
        static final int MAP_CHARGED = 1, MAP_ONLINE = 2, MAP_ARENA_PAGES = 4;

        private static int at(String member) { return (int) offset(LAYOUT, member); }
    }

    /** struct holder_record (bpf/inventory.h), one per map fd of every process from the map_holders iterator. */
    static final class HolderRecord {
        static final StructLayout LAYOUT = struct("holder_record", u32("pid"), u32("map_id"), chars("comm", 16));
        static final int SIZE = (int) LAYOUT.byteSize();
        static final int PID = (int) offset(LAYOUT, "pid"), MAP_ID = (int) offset(LAYOUT, "map_id"),
                COMM = (int) offset(LAYOUT, "comm");
    }

    /** struct file_ref (bpf/references.h), one per map, program or link fd of every process from the bpf_files iterator. */
    static final class FileRef {
        static final StructLayout LAYOUT = struct("file_ref", u32("pid"), u32("kind"), u32("id"), u32("prog_id"),
                u64("file"), u64("refcnt"), u64("prog_refcnt"));
        static final int SIZE = (int) LAYOUT.byteSize();
        static final int PID = at(LAYOUT, "pid"), KIND = at(LAYOUT, "kind"), ID = at(LAYOUT, "id"),
                PROG_ID = at(LAYOUT, "prog_id"), FILE = at(LAYOUT, "file"), REFCNT = at(LAYOUT, "refcnt"),
                PROG_REFCNT = at(LAYOUT, "prog_refcnt");
        /** enum ref_kind: REF_MAP, REF_PROG, REF_LINK are 1, 2, 3, in the order of {@link ReferenceIterators.Kind}. */
        static final int FIRST_KIND = 1;
    }

    /** struct map_ref (bpf/references.h), one per map from the map_refs iterator. */
    static final class MapRef {
        static final StructLayout LAYOUT = struct("map_ref", u32("map_id"), u32("pad"), u64("refcnt"));
        static final int SIZE = (int) LAYOUT.byteSize();
        static final int MAP_ID = at(LAYOUT, "map_id"), REFCNT = at(LAYOUT, "refcnt");
    }

    private static int at(StructLayout layout, String member) { return (int) offset(layout, member); }

    /** struct bpfcharge_oom_value (bpf/bpfcharge_oom.h): one memory cgroup in the map `serve --oom-map` keeps. */
    static final class OomValue {
        static final StructLayout LAYOUT = struct("bpfcharge_oom_value", u32("version"), u32("reserved"),
                u64("bpf_bytes"), u64("surviving_kill_bytes"), u64("stranded_bytes"));
        static final VarHandle VERSION = field(LAYOUT, "version"), BPF_BYTES = field(LAYOUT, "bpf_bytes"),
                SURVIVING_KILL_BYTES = field(LAYOUT, "surviving_kill_bytes"), STRANDED_BYTES = field(LAYOUT, "stranded_bytes");
    }

    /** struct merge_args (bpf/merge_sum.h): merge_sum's context. */
    static final class MergeArgs {
        static final int MAX_KEY = 512, MAX_WORDS = 512;
        static final StructLayout LAYOUT = struct("merge_args", chars("key", MAX_KEY),
                MemoryLayout.sequenceLayout(MAX_WORDS, JAVA_LONG).withName("delta"));
        static final long KEY = offset(LAYOUT, "key"), DELTA = offset(LAYOUT, "delta");
    }

    /** A NUL-terminated string of at most {@code max} bytes at {@code offset}. */
    static String cString(MemorySegment s, long offset, int max) {
        byte[] b = s.asSlice(offset, max).toArray(JAVA_BYTE);
        return cString(b, 0, max);
    }

    static String cString(byte[] b, int offset, int max) {
        return new String(cBytes(b, offset, max), StandardCharsets.UTF_8);
    }

    /** The bytes of a NUL-terminated string of at most {@code max} bytes (a file name: not always UTF-8). */
    static byte[] cBytes(byte[] b, int offset, int max) {
        int n = 0;
        while (n < max && b[offset + n] != 0) n++;
        return java.util.Arrays.copyOfRange(b, offset, offset + n);
    }

    private static StructLayout struct(String name, MemoryLayout... members) {
        return MemoryLayout.structLayout(members).withName(name);
    }

    private static MemoryLayout u32(String name) { return JAVA_INT.withName(name); }

    private static MemoryLayout u64(String name) { return JAVA_LONG.withName(name); }

    private static MemoryLayout chars(String name, int n) { return MemoryLayout.sequenceLayout(n, JAVA_BYTE).withName(name); }

    /** A handle on one member, with the segment and a base offset as coordinates. */
    private static VarHandle field(StructLayout s, String member) { return s.varHandle(groupElement(member)); }

    private static long offset(StructLayout s, String member) { return s.byteOffset(groupElement(member)); }
}
