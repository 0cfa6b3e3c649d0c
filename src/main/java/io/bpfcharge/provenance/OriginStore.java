package io.bpfcharge.provenance;

import io.bpfcharge.Mappers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Origin;
import io.bpfcharge.inventory.Snapshot;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * Where each map was first charged, kept by the node agent in a small state file ({@code origins.json} in
 * {@code $BPFCHARGE_STATE_DIR}, default /var/lib/bpfcharge) that survives its restarts: the kernel forgets a
 * removed cgroup once it moved its charges to the parent. Freed maps are dropped. Every reader (maps, cgroups,
 * serve) uses the file to tell a reparented charge from one that is simply there.
 */
public final class OriginStore {

    private final Path file;
    private final Map<Integer, Origin> origins;

    private OriginStore(Path file, Map<Integer, Origin> origins) {
        this.file = file;
        this.origins = origins;
    }

    /** origins.json in the state directory {@code configured}, or in /var/lib/bpfcharge when it is unset or blank. */
    public static Path file(String configured) {
        return Path.of(configured == null || configured.isBlank() ? "/var/lib/bpfcharge" : configured, "origins.json");
    }

    /**
     * The store in {@code file}; a missing file is an empty store. A file that cannot be parsed (not written by
     * bpfcharge: its own writes replace the file whole) is an empty store too, rewritten at the next save.
     */
    public static OriginStore open(Path file) { return new OriginStore(file, read(file)); }

    private static Map<Integer, Origin> read(Path file) {
        Map<Integer, Origin> out = new TreeMap<>();
        try {
            if (!Files.exists(file)) return out;
            JsonNode maps = Mappers.JSON.readTree(file.toFile()).path("maps");
            maps.properties().forEach(e -> {
                JsonNode o = e.getValue();
                out.put(Integer.parseInt(e.getKey()), new Origin(o.path("memcg_id").asLong(), o.path("path").asText(),
                        o.path("container").isTextual() ? o.path("container").asText() : null));
            });
        } catch (IOException | RuntimeException e) {
            out.clear();
        }
        return out;
    }

    public Map<Integer, Origin> all() { return Map.copyOf(origins); }

    /**
     * For readers: the file's content, read again only when it changed. Saves replace the file whole (a new inode),
     * so the inode tells two saves apart that land in one tick of the file system's clock.
     */
    public static Supplier<Map<Integer, Origin>> reader(Path file) {
        return new Supplier<>() {
            private record Version(Object inode, FileTime modified, long size) {}
            private Version seen;
            private Map<Integer, Origin> cached = Map.of();

            @Override
            public synchronized Map<Integer, Origin> get() {
                Version now;
                try {
                    BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                    now = new Version(a.fileKey(), a.lastModifiedTime(), a.size());
                } catch (IOException e) {
                    seen = null;
                    return cached = Map.of(); // no agent has written it (yet)
                }
                if (!now.equals(seen)) {
                    cached = Map.copyOf(read(file));
                    seen = now;
                }
                return cached;
            }
        };
    }

    /**
     * Records the memcg of every charged map not seen before (with the container running in it, when known) and
     * forgets maps that are gone; true when anything changed.
     * @param containers container id by the cgroup path its init runs in
     */
    public boolean record(Snapshot s, Map<String, String> containers) {
        boolean changed = false;
        Set<Integer> live = new HashSet<>();
        for (MapRecord m : s.maps()) {
            live.add(m.id());
            if (m.memcg() == null || origins.containsKey(m.id())) continue;
            origins.put(m.id(), new Origin(m.memcg().id(), m.memcg().path(), containers.get(m.memcg().path())));
            changed = true;
        }
        return origins.keySet().retainAll(live) || changed;
    }

    /** Writes the file whole (a temporary file renamed over it): a crash leaves the old file or the new one. */
    public void save() {
        ObjectNode root = Mappers.JSON.createObjectNode().put("version", 1);
        ObjectNode maps = root.putObject("maps");
        origins.forEach((id, o) -> maps.putObject(id.toString()).put("memcg_id", o.memcgId()).put("path", o.path())
                .put("container", o.container()));
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Mappers.JSON.writeValue(tmp.toFile(), root);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
