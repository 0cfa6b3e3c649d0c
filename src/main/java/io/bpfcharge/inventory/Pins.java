package io.bpfcharge.inventory;

import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.cgroup.Mountinfo;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
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

    /** Map id to the paths it is pinned at. */
    static Map<Integer, List<String>> scan() {
        Map<Integer, List<String>> pins = new HashMap<>();
        for (Path mount : mounts()) {
            try {
                Files.walkFileTree(mount, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                        if (attrs.isRegularFile()) {
                            Integer id = mapIdAt(file);
                            if (id != null) pins.computeIfAbsent(id, k -> new ArrayList<>()).add(file.toString());
                        }
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFileFailed(Path file, IOException e) {
                        return FileVisitResult.CONTINUE; // unpinned while walking
                    }
                });
            } catch (IOException e) {
                // a mount that cannot be walked holds no pins we can report
            }
        }
        return pins;
    }

    private static Integer mapIdAt(Path file) {
        try (BpfFd fd = BpfFd.openPin(file)) {
            return fd instanceof MapFd map ? map.info().id() : null;
        } catch (BpfException e) {
            return null; // unpinned since listed, or not a BPF object
        }
    }
}
