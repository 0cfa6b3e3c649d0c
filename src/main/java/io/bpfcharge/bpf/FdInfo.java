package io.bpfcharge.bpf;

import java.nio.charset.StandardCharsets;

/**
 * The parts of {@code /proc/self/fdinfo/FD} bpfcharge reads for a map fd.
 * memlock is the map's memory use as the kernel reports it (exact since 6.4, an estimate before).
 */
public record FdInfo(int mapId, long memlock) {
    private static final byte[] MAP_ID = "map_id:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] MEMLOCK = "memlock:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PROG_ID = "prog_id:".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LINK_ID = "link_id:".getBytes(StandardCharsets.US_ASCII);

    /** A program or link: a link's fdinfo names its program too ({@code progId} 0 for a program itself). */
    public record ProgramOrLink(ReferenceIterators.Kind kind, int id, int progId) {}

    /** Parses the fdinfo of one of this process's fds; returns null when the fd is closed or is not a map. */
    public static FdInfo read(int fd) {
        int n = Libc.readFdinfo(fd);
        return n < 0 ? null : parse(Scratch.get().bytes, n);
    }

    static FdInfo parse(String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        return parse(b, b.length);
    }

    /** Reads "key:\tdecimal" lines straight from the bytes: a scan parses 10,000 of these. */
    static FdInfo parse(byte[] b, int n) {
        int mapId = -1;
        long memlock = 0;
        for (int line = 0; line < n; ) {
            int end = line;
            while (end < n && b[end] != '\n') end++;
            if (startsWith(b, line, end, MAP_ID)) mapId = (int) number(b, line + MAP_ID.length, end);
            else if (startsWith(b, line, end, MEMLOCK)) memlock = number(b, line + MEMLOCK.length, end);
            line = end + 1;
        }
        return mapId < 0 ? null : new FdInfo(mapId, memlock);
    }

    /** The program or link an fd of this process refers to, or null when it is neither. */
    static ProgramOrLink programOrLink(int fd) {
        int n = Libc.readFdinfo(fd);
        return n < 0 ? null : programOrLink(Scratch.get().bytes, n);
    }

    static ProgramOrLink programOrLink(byte[] b, int n) {
        long prog = -1, link = -1;
        for (int line = 0; line < n; ) {
            int end = line;
            while (end < n && b[end] != '\n') end++;
            if (startsWith(b, line, end, PROG_ID)) prog = number(b, line + PROG_ID.length, end);
            else if (startsWith(b, line, end, LINK_ID)) link = number(b, line + LINK_ID.length, end);
            line = end + 1;
        }
        if (link >= 0) return new ProgramOrLink(ReferenceIterators.Kind.LINK, (int) link, (int) Math.max(prog, 0));
        return prog >= 0 ? new ProgramOrLink(ReferenceIterators.Kind.PROG, (int) prog, 0) : null;
    }

    private static boolean startsWith(byte[] b, int from, int end, byte[] key) {
        if (end - from < key.length) return false;
        for (int i = 0; i < key.length; i++) if (b[from + i] != key[i]) return false;
        return true;
    }

    private static long number(byte[] b, int from, int end) {
        long v = 0;
        for (int i = from; i < end; i++) if (b[i] >= '0' && b[i] <= '9') v = v * 10 + (b[i] - '0');
        return v;
    }
}
