package io.bpfcharge.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Downcall handles into libbpf.so.1 and libc: the only place the process leaves Java.
 * Signatures are those of libbpf 1.1 (Debian 12), which newer versions keep.
 */
final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBBPF = loadLibbpf();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();

    /** Captures errno right after calls that report failure through it (libc, libbpf pointer returns). */
    static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private Native() {}

    private static SymbolLookup loadLibbpf() {
        try {
            return SymbolLookup.libraryLookup("libbpf.so.1", Arena.global());
        } catch (IllegalArgumentException e) {
            throw new BpfException("load libbpf.so.1 (install libbpf1)", Errno.ENOENT);
        }
    }

    static MethodHandle bpf(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBBPF.findOrThrow(name), fd);
    }

    static MethodHandle bpfErrno(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBBPF.findOrThrow(name), fd, CAPTURE_ERRNO);
    }

    static MethodHandle libc(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LIBC.findOrThrow(name), fd, CAPTURE_ERRNO);
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    static final ValueLayout.OfInt I = JAVA_INT;
    static final ValueLayout.OfLong L = JAVA_LONG;
    static final java.lang.foreign.AddressLayout A = ADDRESS;
    static final ValueLayout.OfByte JAVA_BYTE = ValueLayout.JAVA_BYTE;

    static {
        try {
            // libbpf's own warnings go to stderr by default; bpfcharge reports failures itself. Set before any group
            // below can make a libbpf call.
            MethodHandle setPrint = bpf("libbpf_set_print", FunctionDescriptor.of(A, A));
            MemorySegment ignored = (MemorySegment) setPrint.invokeExact(MemorySegment.NULL);
        } catch (Throwable t) {
            throw new ExceptionInInitializerError(t);
        }
    }

    /*
     * The handles come in groups, each a nested class that the JVM initialises on first use: making a handle of a
     * call shape the linker has not seen spins classes (3-7 ms each, more for the first), and a short command such
     * as `maps` needs only some groups (docs/benchmarks.md, "Scan").
     */

    /** libbpf: ids, fds by id, info. */
    static final class Ids {
        private Ids() {}
        static final MethodHandle MAP_GET_NEXT_ID = bpf("bpf_map_get_next_id", FunctionDescriptor.of(I, I, A));
        static final MethodHandle PROG_GET_NEXT_ID = bpf("bpf_prog_get_next_id", FunctionDescriptor.of(I, I, A));
        static final MethodHandle MAP_GET_FD_BY_ID = bpf("bpf_map_get_fd_by_id", FunctionDescriptor.of(I, I));
        static final MethodHandle PROG_GET_FD_BY_ID = bpf("bpf_prog_get_fd_by_id", FunctionDescriptor.of(I, I));
        static final MethodHandle BTF_GET_FD_BY_ID = bpf("bpf_btf_get_fd_by_id", FunctionDescriptor.of(I, I));
        static final MethodHandle OBJ_GET_INFO_BY_FD = bpf("bpf_obj_get_info_by_fd", FunctionDescriptor.of(I, I, A, A));
    }

    /** libbpf: bpffs pins. */
    static final class Pins {
        private Pins() {}
        static final MethodHandle OBJ_GET = bpf("bpf_obj_get", FunctionDescriptor.of(I, A));
        static final MethodHandle OBJ_PIN = bpf("bpf_obj_pin", FunctionDescriptor.of(I, I, A));
    }

    /** libbpf: creating maps and their elements. */
    static final class Elements {
        private Elements() {}
        static final MethodHandle MAP_CREATE = bpf("bpf_map_create", FunctionDescriptor.of(I, I, A, I, I, I, A));
        static final MethodHandle MAP_LOOKUP = bpf("bpf_map_lookup_elem", FunctionDescriptor.of(I, I, A, A));
        static final MethodHandle MAP_UPDATE = bpf("bpf_map_update_elem", FunctionDescriptor.of(I, I, A, A, L));
        static final MethodHandle MAP_DELETE = bpf("bpf_map_delete_elem", FunctionDescriptor.of(I, I, A));
        static final MethodHandle MAP_NEXT_KEY = bpf("bpf_map_get_next_key", FunctionDescriptor.of(I, I, A, A));
        static final MethodHandle MAP_LOOKUP_BATCH = bpf("bpf_map_lookup_batch", FunctionDescriptor.of(I, I, A, A, A, A, A, A));
        static final MethodHandle MAP_UPDATE_BATCH = bpf("bpf_map_update_batch", FunctionDescriptor.of(I, I, A, A, A, A));
    }

    /** libbpf: objects, programs, links, iterators, and the library itself. */
    static final class Programs {
        private Programs() {}
        static final MethodHandle OBJECT_OPEN_MEM = bpfErrno("bpf_object__open_mem", FunctionDescriptor.of(A, A, L, A));
        static final MethodHandle OBJECT_LOAD = bpf("bpf_object__load", FunctionDescriptor.of(I, A));
        static final MethodHandle MAP_REUSE_FD = bpf("bpf_map__reuse_fd", FunctionDescriptor.of(I, A, I));
        static final MethodHandle MAP_SET_INITIAL_VALUE = bpf("bpf_map__set_initial_value", FunctionDescriptor.of(I, A, A, L));
        static final MethodHandle OBJECT_CLOSE = bpf("bpf_object__close", FunctionDescriptor.ofVoid(A));
        static final MethodHandle OBJECT_FIND_PROGRAM = bpf("bpf_object__find_program_by_name", FunctionDescriptor.of(A, A, A));
        static final MethodHandle OBJECT_FIND_MAP = bpf("bpf_object__find_map_by_name", FunctionDescriptor.of(A, A, A));
        static final MethodHandle PROGRAM_FD = bpf("bpf_program__fd", FunctionDescriptor.of(I, A));
        static final MethodHandle MAP_FD = bpf("bpf_map__fd", FunctionDescriptor.of(I, A));
        static final MethodHandle PROGRAM_ATTACH_ITER = bpfErrno("bpf_program__attach_iter", FunctionDescriptor.of(A, A, A));
        static final MethodHandle LINK_FD = bpf("bpf_link__fd", FunctionDescriptor.of(I, A));
        static final MethodHandle LINK_DESTROY = bpf("bpf_link__destroy", FunctionDescriptor.of(I, A));
        static final MethodHandle ITER_CREATE = bpf("bpf_iter_create", FunctionDescriptor.of(I, I));
        static final MethodHandle PROG_TEST_RUN_OPTS = bpf("bpf_prog_test_run_opts", FunctionDescriptor.of(I, I, A));
        static final MethodHandle VERSION_STRING = bpf("libbpf_version_string", FunctionDescriptor.of(A));
    }

    /** libc: files and descriptors. */
    static final class Files {
        private Files() {}
        static final MethodHandle READ = libc("read", FunctionDescriptor.of(L, I, A, L));
        static final MethodHandle CLOSE = libc("close", FunctionDescriptor.of(I, I));
        static final MethodHandle WRITE = libc("write", FunctionDescriptor.of(L, I, A, L));
        // openat is variadic (mode follows flags); the call never passes a mode.
        static final MethodHandle OPENAT = LINKER.downcallHandle(LIBC.findOrThrow("openat"), FunctionDescriptor.of(I, I, A, I),
                CAPTURE_ERRNO, Linker.Option.firstVariadicArg(3));
        static final MethodHandle READLINKAT = libc("readlinkat", FunctionDescriptor.of(L, I, A, A, L));
        static final MethodHandle GETDENTS64 = libc("getdents64", FunctionDescriptor.of(L, I, A, L));
        // The page size, which reading descriptors needs.
        static final MethodHandle SYSCONF = libc("sysconf", FunctionDescriptor.of(L, I));
    }

    /** libc: what the migration helper and its CPU affinity need. */
    static final class Processes {
        private Processes() {}
        static final MethodHandle MEMFD_CREATE = libc("memfd_create", FunctionDescriptor.of(I, A, I));
        static final MethodHandle SCHED_GETAFFINITY = libc("sched_getaffinity", FunctionDescriptor.of(I, I, L, A));
        static final MethodHandle SCHED_SETAFFINITY = libc("sched_setaffinity", FunctionDescriptor.of(I, I, L, A));
    }

    /** libc: extended attributes of pins. */
    static final class Xattr {
        private Xattr() {}
        static final MethodHandle GETXATTR = libc("getxattr", FunctionDescriptor.of(L, A, A, A, L));
        static final MethodHandle SETXATTR = libc("setxattr", FunctionDescriptor.of(I, A, A, A, L, I));
        static final MethodHandle REMOVEXATTR = libc("removexattr", FunctionDescriptor.of(I, A, A));
    }

    /** A downcall returning int; invokeExact is declared to throw Throwable. */
    @FunctionalInterface
    interface IntCall {
        int run() throws Throwable;
    }

    static int call(IntCall c) {
        try {
            return c.run();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A libbpf call that returns -errno on failure. */
    static int checked(String op, IntCall c) {
        return BpfException.check(op, call(c));
    }

    /** Downcalls throw no checked exceptions, so any other Throwable here is a JVM error. */
    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }
}
