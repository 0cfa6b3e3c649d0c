package io.bpfcharge.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A compiled BPF object shipped in the jar under {@code /bpf/NAME.bpf.o}, opened and loaded by
 * libbpf (CO-RE relocations are resolved against the running kernel's BTF here).
 * Its programs' and maps' fds belong to it.
 */
public final class BpfObject implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private MemorySegment obj;

    private BpfObject(MemorySegment obj) { this.obj = obj; }

    public static BpfObject load(String name) { return load(name, java.util.Map.of(), null); }

    /**
     * Loads with some of the object's maps replaced by existing maps (bpf_map__reuse_fd: the verifier
     * then checks the programs against those maps' real sizes) and, when {@code rodata} is not null,
     * the object's {@code const volatile} globals set first, so the verifier sees them as constants.
     */
    public static BpfObject load(String name, java.util.Map<String, MapFd> reuse, byte[] rodata) {
        byte[] elf;
        try (InputStream in = BpfObject.class.getResourceAsStream("/bpf/" + name + ".bpf.o")) {
            if (in == null) throw new BpfException("find /bpf/" + name + ".bpf.o in the jar (rebuild)", Errno.ENOENT);
            elf = in.readAllBytes();
        } catch (IOException e) {
            throw new BpfException("read /bpf/" + name + ".bpf.o", Errno.EIO);
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment buf = tmp.allocate(elf.length);
            buf.copyFrom(MemorySegment.ofArray(elf));
            MemorySegment cap = tmp.allocate(Native.CAPTURE);
            MemorySegment obj = (MemorySegment) Native.Programs.OBJECT_OPEN_MEM.invokeExact(cap, buf, (long) elf.length, MemorySegment.NULL);
            if (obj.equals(MemorySegment.NULL)) throw new BpfException("open bpf object " + name, Native.errno(cap));
            BpfObject o = new BpfObject(obj);
            try {
                for (var e : reuse.entrySet())
                    BpfException.check("reuse map " + e.getKey(), (int) Native.Programs.MAP_REUSE_FD.invokeExact(o.map(e.getKey()), e.getValue().fd()));
                if (rodata != null)
                    BpfException.check("set .rodata of " + name, (int) Native.Programs.MAP_SET_INITIAL_VALUE.invokeExact(o.map(".rodata"),
                            tmp.allocateFrom(Native.JAVA_BYTE, rodata), (long) rodata.length));
                BpfException.check("load bpf object " + name, (int) Native.Programs.OBJECT_LOAD.invokeExact(obj));
            } catch (Throwable t) {
                o.close();
                throw t;
            }
            return o;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private MemorySegment map(String name) {
        return find(Native.Programs.OBJECT_FIND_MAP, "map", name);
    }

    private MemorySegment find(java.lang.invoke.MethodHandle finder, String kind, String name) {
        MemorySegment found;
        try {
            found = (MemorySegment) finder.invokeExact(obj, arena.allocateFrom(name));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        if (found.equals(MemorySegment.NULL)) throw new BpfException("find " + kind + " " + name, Errno.ENOENT);
        return found;
    }

    /** The fd of a program in this object; owned by the object. */
    int programFd(String prog) {
        MemorySegment p = program(prog);
        return Native.checked("program fd " + prog, () -> (int) Native.Programs.PROGRAM_FD.invokeExact(p));
    }

    MemorySegment program(String prog) {
        return find(Native.Programs.OBJECT_FIND_PROGRAM, "program", prog);
    }

    /** Runs a program of this object through BPF_PROG_TEST_RUN. */
    public int testRun(String prog, int repeat) {
        return ProgFd.testRun(programFd(prog), repeat, MemorySegment.NULL, MemorySegment.NULL);
    }

    /**
     * Runs a program once or {@code repeat} times with a packet ({@code data}, for tc/xdp programs) or a
     * context ({@code ctx}, for syscall programs, which read and write it in place); either may be null.
     * Both are direct buffers (their remaining bytes): the kernel reads them where they are.
     */
    public int testRun(String prog, int repeat, ByteBuffer data, ByteBuffer ctx) {
        return ProgFd.testRun(programFd(prog), repeat, direct(data), direct(ctx));
    }

    private static MemorySegment direct(ByteBuffer b) {
        if (b == null) return MemorySegment.NULL;
        if (!b.isDirect()) throw new IllegalArgumentException("a test run takes direct buffers (ByteBuffer.allocateDirect)");
        return MemorySegment.ofBuffer(b);
    }

    /** The fd of a map in this object; owned by the object. */
    public int mapFd(String map) {
        MemorySegment m = map(map);
        return Native.checked("map fd " + map, () -> (int) Native.Programs.MAP_FD.invokeExact(m));
    }

    /** Attaches an iterator program ({@code SEC("iter/TARGET")}) of this object; each {@link Iterator#readAll} is one full walk. */
    public Iterator attachIterator(String prog, String target) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment cap = tmp.allocate(Native.CAPTURE);
            MemorySegment link = (MemorySegment) Native.Programs.PROGRAM_ATTACH_ITER.invokeExact(cap, program(prog), MemorySegment.NULL);
            if (link.equals(MemorySegment.NULL)) throw new BpfException("attach " + target + " iterator", Native.errno(cap));
            return new Iterator(link, target);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** An attached iterator link; closing it detaches the program. */
    public static final class Iterator implements AutoCloseable {
        private final String target;
        private MemorySegment link;
        /** Kept between reads and grown to fit. */
        private MemorySegment buf = Arena.ofAuto().allocate(1 << 16, 8);

        private Iterator(MemorySegment link, String target) {
            this.link = link;
            this.target = target;
        }

        /** One full walk: a new iterator fd from the link, read to its end. */
        public synchronized byte[] readAll() {
            long len = 0;
            try {
                int linkFd = (int) Native.Programs.LINK_FD.invokeExact(link);
                int iterFd = BpfException.check("create " + target + " iterator", (int) Native.Programs.ITER_CREATE.invokeExact(linkFd));
                try {
                    while (true) {
                        if (len == buf.byteSize()) buf = Arena.ofAuto().allocate(2 * len, 8).copyFrom(buf);
                        long n = Libc.read("read " + target + " iterator", iterFd, buf.asSlice(len));
                        if (n == 0) break;
                        len += n;
                    }
                } finally {
                    Libc.close(iterFd);
                }
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            // Parsed from a heap copy: before the JIT has compiled it, a segment read costs far more than a
            // ByteBuffer read, and a CLI run is all "before".
            return buf.asSlice(0, len).toArray(Native.JAVA_BYTE);
        }

        @Override
        public void close() {
            if (link == null) return;
            try {
                int ignored = (int) Native.Programs.LINK_DESTROY.invokeExact(link);
            } catch (Throwable t) {
                throw Native.rethrow(t);
            }
            link = null;
        }
    }

    @Override
    public void close() {
        if (obj == null) return;
        try {
            Native.Programs.OBJECT_CLOSE.invokeExact(obj);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        obj = null;
        arena.close();
    }
}
