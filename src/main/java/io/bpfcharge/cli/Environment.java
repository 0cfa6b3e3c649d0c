package io.bpfcharge.cli;

import io.bpfcharge.migrate.Faults;
import io.bpfcharge.migrate.RunDir;
import io.bpfcharge.provenance.OriginStore;

import java.nio.file.Path;

/**
 * What the environment configures, read here only: the code below the commands takes it as arguments. Every
 * bpfcharge process on a node (CLI, hook, daemon) must agree on the directories.
 */
final class Environment {
    private Environment() {}

    /** $BPFCHARGE_CRASH_AT, $BPFCHARGE_PAUSE_AT, $BPFCHARGE_PAUSE_DIR: the recovery tests' fault injection. */
    static Faults faults() {
        return Faults.of(System.getenv("BPFCHARGE_CRASH_AT"), System.getenv("BPFCHARGE_PAUSE_AT"),
                System.getenv("BPFCHARGE_PAUSE_DIR"));
    }

    /** $BPFCHARGE_RUN_DIR: migration journals and history (default /run/bpfcharge). */
    static RunDir run() { return RunDir.of(System.getenv("BPFCHARGE_RUN_DIR")); }

    /** $BPFCHARGE_STATE_DIR/origins.json: the first memcg of each map (default /var/lib/bpfcharge). */
    static Path origins() { return OriginStore.file(System.getenv("BPFCHARGE_STATE_DIR")); }
}
