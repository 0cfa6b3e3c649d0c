package io.bpfcharge.migrate;

import java.time.Instant;

/** One line of {@code migrations.jsonl}: a finished migration attempt ({@link MigrationHistory}); never {@link Result#DRY_RUN},
 *  {@link Result#NO_MATCH} or {@link Result#CONFLICT}. */
public record MigrationEvent(Instant time, Result result, int oldMapId, int newMapId, long bytes, String from, String to) {}
