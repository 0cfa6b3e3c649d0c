package io.bpfcharge.migrate;

import java.nio.file.Path;
import java.util.Set;

/**
 * Fault injection for the recovery tests, unset in production: halt at a named step of a migration as a kill -9
 * would leave it ({@code crashAt}), or wait there until a test releases it ({@code pauseAt}, announced in
 * {@code pauseDir}; see {@link Crash}). The command layer reads it from the environment and installs it once per
 * process; the create helper gets its own steps as arguments.
 */
public record Faults(String crashAt, Set<String> pauseAt, Path pauseDir) {
    public static final Faults NONE = new Faults(null, Set.of(), null);

    /** @param pauseAt one step or several, comma-separated; null or empty for none */
    public static Faults of(String crashAt, String pauseAt, String pauseDir) {
        if (crashAt == null && pauseAt == null) return NONE;
        return new Faults(crashAt, pauseAt == null || pauseAt.isEmpty() ? Set.of() : Set.of(pauseAt.split(",")),
                pauseDir == null ? null : Path.of(pauseDir));
    }

    /** From now on this process's migration steps crash or pause as these say. */
    public void install() { Crash.install(this); }
}
