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

    /**
     * $BPFCHARGE_RUN_DIR: migration journals and history (default /run/bpfcharge); $BPFCHARGE_STATE_DIR/baselines:
     * the copies migrations compare with (default /var/lib/bpfcharge/baselines), per boot.
     */
    static RunDir run() {
        return RunDir.of(System.getenv("BPFCHARGE_RUN_DIR"), System.getenv("BPFCHARGE_STATE_DIR"), bootId());
    }

    private static String bootId() {
        try {
            return java.nio.file.Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot read this boot's id: " + e.getMessage(), e);
        }
    }

    /** $BPFCHARGE_STATE_DIR/origins.json: the first memcg of each map (default /var/lib/bpfcharge). */
    static Path origins() { return OriginStore.file(System.getenv("BPFCHARGE_STATE_DIR")); }
}
