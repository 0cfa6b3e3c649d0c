package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.LinuxDirent64;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Listing bpffs, where every regular file is a pin and there may be tens of thousands of them. */
public final class Bpffs {
    private static final int DT_DIR = 4, DT_REG = 8;

    private Bpffs() {}

    /**
     * A pin and its inode number. bpffs gives every new pin a new inode (get_next_ino), so while a path
     * keeps its inode it still holds the object it held: a scan can trust what it learned from it before.
     */
    public record Pin(String path, long ino) {}

    /**
     * Every regular file below {@code root}, symlinks not followed. Reads directories with getdents64
     * and trusts its d_type (bpffs always fills it in): java.nio's walk stats every entry, which
     * takes longer than the pins' own syscalls when there are 10,000 of them.
     */
    public static List<Pin> files(String root) {
        List<Pin> out = new ArrayList<>();
        try (Arena arena = Arena.ofConfined()) {
            walk(root, arena.allocate(1 << 16), out);
        }
        return out;
    }

    private static void walk(String dir, MemorySegment buf, List<Pin> out) {
        int fd = Libc.openDir(dir);
        if (fd < 0) return; // removed while walking, or not readable: holds no pins we can report
        List<String> subdirs = new ArrayList<>();
        try {
            while (true) {
                long n = (long) Native.Files.GETDENTS64.invokeExact(Scratch.get().capture, fd, buf, buf.byteSize());
                if (n <= 0) break;
                for (long off = 0; off < n; off += Short.toUnsignedInt((short) LinuxDirent64.D_RECLEN.get(buf, off))) {
                    byte type = (byte) LinuxDirent64.D_TYPE.get(buf, off);
                    if (type != DT_REG && type != DT_DIR) continue;
                    String name = buf.getString(off + LinuxDirent64.D_NAME, StandardCharsets.UTF_8);
                    if (name.equals(".") || name.equals("..")) continue;
                    String path = dir.endsWith("/") ? dir + name : dir + "/" + name;
                    if (type == DT_DIR) subdirs.add(path);
                    else out.add(new Pin(path, (long) LinuxDirent64.D_INO.get(buf, off)));
                }
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        } finally {
            Libc.close(fd);
        }
        for (String d : subdirs) walk(d, buf, out); // after closing: one open fd per level at most
    }
}
