package io.bpfcharge.cli;

import io.bpfcharge.migrate.RunDir;
import io.bpfcharge.provenance.OriginStore;

import java.nio.file.Path;

/**
 * The node's directories as the environment names them, read here only: the code below the commands takes
 * them as arguments. Every bpfcharge process on a node (CLI, hook, daemon) must agree on them.
 */
final class NodeDirs {
    private NodeDirs() {}

    /** $BPFCHARGE_RUN_DIR: migration journals and history (default /run/bpfcharge). */
    static RunDir run() { return RunDir.of(System.getenv("BPFCHARGE_RUN_DIR")); }

    /** $BPFCHARGE_STATE_DIR/origins.json: the first memcg of each map (default /var/lib/bpfcharge). */
    static Path origins() { return OriginStore.file(System.getenv("BPFCHARGE_STATE_DIR")); }
}
