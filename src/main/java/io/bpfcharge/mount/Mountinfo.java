package io.bpfcharge.mount;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of /proc/PID/mountinfo (proc(5)); octal escapes in paths decoded.
 * @param dev the mounted file system's device number, encoded as stat(2)'s st_dev
 */
public record Mountinfo(long dev, String root, Path mountPoint, String fsType, String source, String superOptions) {

    /** The mounts of this process's mount namespace. */
    public static List<Mountinfo> self() {
        List<Mountinfo> mounts = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                Mountinfo m = parse(line);
                if (m != null) mounts.add(m);
            }
        } catch (IOException e) {
            throw new BpfchargeException(Exit.ENVIRONMENT, "cannot read /proc/self/mountinfo (" + e.getMessage() + "): mount /proc");
        }
        return mounts;
    }

    /** Returns null for a line that is not a mount entry. */
    public static Mountinfo parse(String line) {
        String[] halves = line.split(" - ", 2);
        if (halves.length < 2) return null;
        String[] pre = halves[0].split(" ");
        String[] post = halves[1].split(" ");
        if (pre.length < 5 || post.length < 3) return null;
        String[] majorMinor = pre[2].split(":");
        if (majorMinor.length != 2) return null;
        long dev;
        try {
            dev = dev(Long.parseLong(majorMinor[0]), Long.parseLong(majorMinor[1]));
        } catch (NumberFormatException e) {
            return null;
        }
        return new Mountinfo(dev, unescape(pre[3]), Path.of(unescape(pre[4])), post[0], post[1], post[2]);
    }

    /** glibc's makedev(): how st_dev packs a major and a minor number. */
    static long dev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    static String unescape(String s) {
        if (s.indexOf('\\') < 0) return s;
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length()) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
