package io.bpfcharge.migrate;

import java.nio.file.Path;

/**
 * Makes a migration's replacement map inside the target memory cgroup (the kernel charges a map to its creator's
 * memcg, so another process must create it): one helper process per create ({@link #ONE_SHOT}, the CLI and the
 * hook), or a {@link ResidentHelper} kept by a daemon. Chosen by the command layer and given to the {@link Migrator}.
 */
public interface MapCreator {
    MapCreator ONE_SHOT = CreateHelper::create;

    /** Creates the twin of map {@code oldId} in {@code target}, pins it at {@code pin} and returns its id. */
    int create(String target, int oldId, int templateId, Path pin);
}
