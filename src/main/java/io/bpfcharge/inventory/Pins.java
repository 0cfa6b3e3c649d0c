package io.bpfcharge.inventory;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.Bpffs;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.cgroup.Mountinfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** Where maps are pinned: every file of every bpffs mount. */
public final class Pins {
    private Pins() {}

    /** Mount points of bpffs in this mount namespace. */
    public static List<Path> mounts() {
        Set<Path> points = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
                Mountinfo m = Mountinfo.parse(line);
                if (m != null && m.fsType().equals("bpf")) points.add(m.mountPoint());
            }
        } catch (IOException e) {
            return List.of();
        }
        return List.copyOf(points);
    }

    /** The bpffs mount a path lies in, or null when it lies in none. */
    public static Path mountOf(Path path) {
        Path best = null;
        for (Path m : mounts())
            if (path.startsWith(m) && (best == null || m.getNameCount() > best.getNameCount())) best = m;
        return best;
    }

    /** Every pin (regular file) in every bpffs mount; a mount inside another is listed once. */
    static List<String> files() {
        Set<String> files = new LinkedHashSet<>();
        for (Path mount : mounts()) files.addAll(Bpffs.files(mount.toString()));
        return List.copyOf(files);
    }

    /** The map pinned at a path, or null when the pin is gone or holds another kind of object. */
    static MapFd openMap(String path) {
        BpfFd fd;
        try {
            fd = BpfFd.openPin(Path.of(path));
        } catch (BpfException e) {
            return null; // unpinned since listed, or not a BPF object
        }
        if (fd instanceof MapFd map) return map;
        fd.close();
        return null;
    }
}
