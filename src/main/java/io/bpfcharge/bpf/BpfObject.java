package io.bpfcharge.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A compiled BPF object shipped in the jar under {@code /bpf/NAME.bpf.o}, opened and loaded by
 * libbpf (CO-RE relocations are resolved against the running kernel's BTF here).
 * Its programs' and maps' fds belong to it.
 */
public final class BpfObject implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private MemorySegment obj;

    private BpfObject(MemorySegment obj) { this.obj = obj; }

    public static BpfObject load(String name) {
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
            MemorySegment obj = (MemorySegment) Native.OBJECT_OPEN_MEM.invokeExact(cap, buf, (long) elf.length, MemorySegment.NULL);
            if (obj.equals(MemorySegment.NULL)) throw new BpfException("open bpf object " + name, Native.errno(cap));
            int ret = (int) Native.OBJECT_LOAD.invokeExact(obj);
            if (ret < 0) {
                Native.OBJECT_CLOSE.invokeExact(obj);
                throw new BpfException("load bpf object " + name, -ret);
            }
            return new BpfObject(obj);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The fd of a program in this object; owned by the object. */
    int programFd(String prog) {
        try {
            return BpfException.check("program fd " + prog, (int) Native.PROGRAM_FD.invokeExact(program(prog)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    MemorySegment program(String prog) {
        try {
            MemorySegment p = (MemorySegment) Native.OBJECT_FIND_PROGRAM.invokeExact(obj, arena.allocateFrom(prog));
            if (p.equals(MemorySegment.NULL)) throw new BpfException("find program " + prog, Errno.ENOENT);
            return p;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Runs a program of this object through BPF_PROG_TEST_RUN. */
    public int testRun(String prog, int repeat) {
        return ProgFd.testRun(programFd(prog), repeat);
    }

    /** The fd of a map in this object; owned by the object. */
    public int mapFd(String map) {
        try {
            MemorySegment m = (MemorySegment) Native.OBJECT_FIND_MAP.invokeExact(obj, arena.allocateFrom(map));
            if (m.equals(MemorySegment.NULL)) throw new BpfException("find map " + map, Errno.ENOENT);
            return BpfException.check("map fd " + map, (int) Native.MAP_FD.invokeExact(m));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    @Override
    public void close() {
        if (obj == null) return;
        try {
            Native.OBJECT_CLOSE.invokeExact(obj);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        obj = null;
        arena.close();
    }
}
