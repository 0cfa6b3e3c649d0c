package io.bpfcharge.migrate;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/** One line of {@code migrations.jsonl}: a finished migration attempt ({@link MigrationHistory}). */
public record MigrationEvent(Instant time, Result result, int oldMapId, int newMapId, long bytes, String from, String to) {
    /** How an attempt ended, as the log and the {@code result} label of the migration metrics write it. */
    public enum Result {
        OK, NOOP, REFUSED, FAILED, ROLLED_BACK;

        public String jsonName() { return name().toLowerCase(Locale.ROOT); }

        /** The result a log line names; empty for one this version does not know. */
        static Optional<Result> of(String jsonName) {
            for (Result r : values()) if (r.jsonName().equals(jsonName)) return Optional.of(r);
            return Optional.empty();
        }
    }
}
