package io.bpfcharge.agent;

import io.bpfcharge.hook.OciState;

import java.nio.file.Path;
import java.util.Map;

/**
 * A running container as its runtime recorded it on disk: the facts a hook reads from stdin.
 * @param root the runtime state root it was found under (the metrics label)
 * @param pid its init process, in the host's pid namespace
 * @param started when that process started: with {@code pid}, tells one start of a container from the next
 */
public record Container(Path root, Layout layout, String id, long pid, long started, String bundle,
                        Map<String, String> annotations) {
    public Container {
        annotations = Map.copyOf(annotations);
    }

    /** One start of one container: a restart (new init process) is a new instance. */
    public record Instance(String id, long pid, long started) {}

    public Instance instance() { return new Instance(id, pid, started); }

    /** The state an OCI runtime would hand its hook for this container. */
    public OciState state() { return new OciState("1.0.2", id, "running", pid, bundle, annotations); }
}
