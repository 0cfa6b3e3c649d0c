package io.bpfcharge.migrate;

import java.time.Instant;

/**
 * One line of migrations.jsonl: a finished migration attempt.
 * @param result ok, noop, refused, failed or rolled_back
 */
public record MigrationEvent(Instant time, String result, int oldMapId, int newMapId, long bytes, String from, String to) {}
