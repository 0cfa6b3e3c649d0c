package io.bpfcharge.agent;

import io.bpfcharge.Mappers;
import io.bpfcharge.host.Processes;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Finds running containers the way OCI runtimes record them on disk, with no runtime API: each root holds one
 * directory per container, directly or one level down (containerd's namespaces). A container whose init
 * process is gone (or a zombie, or a reused pid) is not running. One container seen under two roots (podman's
 * crun state and its userdata bundle) is listed once, under the first root.
 */
public final class RuntimeRoots {
    /** runc, crun, containerd's runc and task-bundle roots, CRI-O/podman bundles, Docker's runc root. */
    public static final List<Path> DEFAULTS = List.of(Path.of("/run/runc"), Path.of("/run/crun"),
            Path.of("/run/containerd/runc"), Path.of("/run/containerd/io.containerd.runtime.v2.task"),
            Path.of("/run/containers/storage/overlay-containers"), Path.of("/run/docker/runtime-runc"));
    /** A runtime's files are a few kB; anything much larger is not one of them. */
    private static final long MAX_BYTES = 4 << 20;

    private final List<Path> roots;

    public RuntimeRoots(List<Path> roots) { this.roots = List.copyOf(roots); }

    /**
     * The defaults followed by {@code given}, or {@code given} alone: on a host shared with runtimes whose
     * containers are not this agent's to recharge, their default roots must stay unwatched.
     */
    public static RuntimeRoots of(List<Path> given, boolean givenOnly) {
        Set<Path> out = new LinkedHashSet<>(givenOnly ? List.of() : DEFAULTS);
        for (Path root : given) out.add(root.normalize());
        return new RuntimeRoots(List.copyOf(out));
    }

    public List<Path> roots() { return roots; }

    /** Every running container under the roots. */
    public List<Container> scan() {
        List<Container> out = new ArrayList<>();
        Set<Long> pids = new HashSet<>();
        for (Path root : roots)
            for (Path dir : containerDirs(root))
                read(root, dir).filter(c -> pids.add(c.pid())).ifPresent(out::add);
        return out;
    }

    /** The directories whose changes announce a container: the roots, their namespaces and container directories. */
    List<Path> watched() {
        List<Path> out = new ArrayList<>();
        for (Path root : roots) {
            if (!Files.isDirectory(root)) continue;
            out.add(root);
            for (Path d : dirs(root)) {
                out.add(d);
                if (layoutOf(d) == null) out.addAll(dirs(d));
            }
        }
        return out;
    }

    private static List<Path> containerDirs(Path root) {
        List<Path> out = new ArrayList<>();
        for (Path d : dirs(root)) {
            if (layoutOf(d) != null) out.add(d);
            else for (Path inner : dirs(d)) if (layoutOf(inner) != null) out.add(inner);
        }
        return out;
    }

    private static List<Path> dirs(Path dir) {
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
            ds.forEach(out::add);
        } catch (IOException e) {
            // not there (yet), or removed meanwhile: nothing runs from it
        }
        return out;
    }

    static Layout layoutOf(Path dir) {
        if (Files.isRegularFile(dir.resolve("state.json"))) return Layout.RUNC;
        if (Files.isRegularFile(dir.resolve("status"))) return Layout.CRUN;
        if (Files.isRegularFile(dir.resolve("init.pid"))) return Layout.TASK_BUNDLE;
        if (Files.isRegularFile(dir.resolve("userdata/pidfile"))) return Layout.USERDATA;
        return null;
    }

    /**
     * The container recorded in {@code dir}, if it runs. Files being written (half a JSON document, no pid yet)
     * read as not running: the write that completes them is another change, and the reconcile catches up.
     */
    static Optional<Container> read(Path root, Path dir) {
        Layout layout = layoutOf(dir);
        if (layout == null) return Optional.empty();
        try {
            String id = dir.getFileName().toString();
            long pid, expectedStart = -1;
            String bundle;
            Map<String, String> annotations;
            switch (layout) {
                case RUNC -> {
                    JsonNode s = json(dir.resolve("state.json"));
                    pid = s.path("init_process_pid").asLong();
                    expectedStart = s.path("init_process_start").asLong(-1);
                    id = s.path("id").asText(id);
                    Map<String, String> labels = labels(s.path("config").path("labels"));
                    bundle = labels.getOrDefault("bundle", "");
                    // runc copies the annotations into its labels; the bundle's config.json says it exactly.
                    Path config = Path.of(bundle.isEmpty() ? "/nonexistent" : bundle, "config.json");
                    labels.remove("bundle");
                    annotations = Files.isRegularFile(config) ? annotations(json(config)) : labels;
                }
                case CRUN -> {
                    JsonNode s = json(dir.resolve("status"));
                    pid = s.path("pid").asLong();
                    expectedStart = s.path("process-start-time").asLong(-1);
                    bundle = s.path("bundle").asText("");
                    annotations = annotations(json(dir.resolve("config.json")));
                }
                case TASK_BUNDLE -> {
                    pid = pidFile(dir.resolve("init.pid"));
                    bundle = dir.toString();
                    annotations = annotations(json(dir.resolve("config.json")));
                }
                case USERDATA -> {
                    pid = pidFile(dir.resolve("userdata/pidfile"));
                    bundle = dir.resolve("userdata").toString();
                    annotations = annotations(json(dir.resolve("userdata/config.json")));
                }
                default -> throw new IllegalStateException(layout.toString());
            }
            if (pid <= 0) return Optional.empty();
            long started = Processes.startTicks(pid);
            if (started < 0 || (expectedStart >= 0 && expectedStart != started)) return Optional.empty();
            return Optional.of(new Container(root, layout, id, pid, started, bundle, annotations));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static JsonNode json(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] b = in.readNBytes((int) MAX_BYTES + 1);
            if (b.length > MAX_BYTES) throw new IOException(file + " is larger than " + MAX_BYTES + " bytes");
            JsonNode n = Mappers.JSON.readTree(b);
            if (n == null || !n.isObject()) throw new IOException(file + " is not a JSON object");
            return n;
        }
    }

    private static long pidFile(Path file) throws IOException {
        String s = Files.readString(file).strip();
        return s.isEmpty() ? 0 : Long.parseLong(s);
    }

    /** The string annotations of an OCI config.json (others are not a runtime's and are ignored). */
    private static Map<String, String> annotations(JsonNode config) {
        Map<String, String> out = new LinkedHashMap<>();
        config.path("annotations").properties().forEach(e -> {
            if (e.getValue().isTextual()) out.put(e.getKey(), e.getValue().textValue());
        });
        return out;
    }

    /** runc's "key=value" labels. */
    private static Map<String, String> labels(JsonNode labels) {
        Map<String, String> out = new LinkedHashMap<>();
        for (JsonNode l : labels) {
            String s = l.asText();
            int eq = s.indexOf('=');
            if (eq > 0) out.put(s.substring(0, eq), s.substring(eq + 1));
        }
        return out;
    }
}
