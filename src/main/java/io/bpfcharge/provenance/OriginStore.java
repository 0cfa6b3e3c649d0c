package io.bpfcharge.provenance;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
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
    /**
     * Jackson's streaming core alone, not {@link io.bpfcharge.Mappers}: serve reads and writes this file, and its
     * mappers' initialisation loads about 400 classes of data binding and YAML into the daemon's metaspace.
     */
    private static final JsonFactory JSON = new JsonFactoryBuilder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII).build();

    private final Path file;
    private final Map<Integer, Origin> origins;
    /** An immutable copy of {@link #origins} as of the last change, for scans on other threads. */
    private volatile Map<Integer, Origin> published;

    private OriginStore(Path file, Map<Integer, Origin> origins) {
        this.file = file;
        this.origins = origins;
        this.published = Map.copyOf(origins);
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

    /**
     * Streamed, not read as a tree: with 10,000 maps a tree of the file is a few MB of short-lived heap in a daemon
     * whose heap is sized to its scans (contrib/serve-jvm.args).
     */
    private static Map<Integer, Origin> read(Path file) {
        Map<Integer, Origin> out = new TreeMap<>();
        if (!Files.exists(file)) return out;
        try (JsonParser p = JSON.createParser(file.toFile())) {
            if (p.nextToken() != JsonToken.START_OBJECT) return out;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                JsonToken value = p.nextToken();
                if (p.currentName().equals("maps") && value == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        int id = Integer.parseInt(p.currentName());
                        p.nextToken();
                        out.put(id, origin(p));
                    }
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException | RuntimeException e) {
            out.clear();
        }
        return out;
    }

    /** One entry of "maps", the parser on its START_OBJECT; unknown fields (of a later version) are skipped. */
    private static Origin origin(JsonParser p) throws IOException {
        if (p.currentToken() != JsonToken.START_OBJECT) throw new IOException("not an object");
        long memcgId = 0;
        String path = "", container = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken t = p.nextToken();
            switch (name) {
                case "memcg_id" -> memcgId = t.isNumeric() ? p.getLongValue() : 0;
                case "path" -> path = t == JsonToken.VALUE_STRING ? p.getText() : "";
                case "container" -> container = t == JsonToken.VALUE_STRING ? p.getText() : null;
                default -> p.skipChildren();
            }
        }
        return new Origin(memcgId, path, container);
    }

    /**
     * What the store holds, as of its last {@link #record}: the node agent's own scans and the daemon's read it here
     * rather than from the file, which would be a second copy of every entry in the heap and a parse per change.
     */
    public Map<Integer, Origin> all() { return published; }

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
        changed = origins.keySet().retainAll(live) || changed;
        if (changed) published = Map.copyOf(origins);
        return changed;
    }

    /** Writes the file whole (a temporary file renamed over it): a crash leaves the old file or the new one. */
    public void save() {
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            // Streamed for the same reason as read: no tree of every map in the heap.
            try (JsonGenerator g = JSON.createGenerator(tmp.toFile(), JsonEncoding.UTF8)) {
                g.writeStartObject();
                g.writeNumberField("version", 1);
                g.writeObjectFieldStart("maps");
                for (var e : origins.entrySet()) {
                    Origin o = e.getValue();
                    g.writeObjectFieldStart(e.getKey().toString());
                    g.writeNumberField("memcg_id", o.memcgId());
                    g.writeStringField("path", o.path());
                    g.writeStringField("container", o.container());
                    g.writeEndObject();
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
