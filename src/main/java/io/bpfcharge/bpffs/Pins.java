package io.bpfcharge.bpffs;

import io.bpfcharge.bpf.Bpffs;
import io.bpfcharge.mount.Mountinfo;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Where maps are pinned: every file of every bpffs mount. */
public final class Pins {
    private Pins() {}

    /** Mount points of bpffs in this mount namespace. */
    public static List<Path> mounts() {
        Set<Path> points = new LinkedHashSet<>();
        for (Mountinfo m : Mountinfo.self()) if (m.fsType().equals("bpf")) points.add(m.mountPoint());
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
    public static List<Bpffs.Pin> files() {
        Map<String, Bpffs.Pin> files = new LinkedHashMap<>();
        for (Path mount : mounts())
            for (Bpffs.Pin p : Bpffs.files(mount.toString())) files.putIfAbsent(p.path(), p);
        return List.copyOf(files.values());
    }
}
