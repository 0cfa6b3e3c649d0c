package io.bpfcharge.bpffs;

import io.bpfcharge.bpf.Bpffs;
import io.bpfcharge.mount.Mountinfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Where maps are pinned: every file of every bpffs mount. */
public final class Pins {
    private Pins() {}

    /** A bpffs mount that path lookups reach, and its device (every file in it has this st_dev). */
    public record Mount(Path point, long dev) {}

    /**
     * The bpffs mounts of this mount namespace that lookups reach. One hidden under a later mount, or
     * mounted over the root directory (lookups of "/" keep finding the old root), is left out: its
     * mount point shows another file system, whose files must never pass for pins.
     */
    public static List<Mount> visible() {
        Set<Path> seen = new LinkedHashSet<>();
        List<Mount> mounts = new ArrayList<>();
        for (Mountinfo m : Mountinfo.self().reversed()) { // the newest mount on a point is the one seen
            if (!m.fsType().equals("bpf") || !seen.add(m.mountPoint())) continue;
            if (m.dev() == deviceOf(m.mountPoint())) mounts.add(new Mount(m.mountPoint(), m.dev()));
        }
        return mounts.reversed();
    }

    /** Mount points of the bpffs mounts lookups reach. */
    public static List<Path> mounts() {
        return visible().stream().map(Mount::point).toList();
    }

    private static long deviceOf(Path p) {
        try {
            return (Long) Files.getAttribute(p, "unix:dev");
        } catch (IOException e) {
            return -1; // gone
        }
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
