package io.bpfcharge.bpf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The parts of {@code /proc/PID/fdinfo/FD} bpfcharge reads for a map fd.
 * memlock is the map's memory use as the kernel reports it (exact since 6.4, an estimate before).
 */
public record FdInfo(int mapId, long memlock) {
    /** Parses a map fd's fdinfo; returns null when the fd is gone or is not a map. */
    public static FdInfo read(long pid, int fd) {
        byte[] text;
        try {
            text = Files.readAllBytes(Path.of("/proc/" + pid + "/fdinfo/" + fd));
        } catch (IOException e) {
            return null;
        }
        return parse(new String(text, StandardCharsets.US_ASCII));
    }

    static FdInfo parse(String text) {
        int mapId = -1;
        long memlock = 0;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon);
            if (key.equals("map_id")) mapId = Integer.parseInt(line.substring(colon + 1).trim());
            else if (key.equals("memlock")) memlock = Long.parseLong(line.substring(colon + 1).trim());
        }
        return mapId < 0 ? null : new FdInfo(mapId, memlock);
    }
}
