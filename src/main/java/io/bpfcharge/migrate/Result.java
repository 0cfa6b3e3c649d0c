package io.bpfcharge.migrate;

import java.util.Locale;
import java.util.Optional;

/**
 * What became of one map asked to move to a memory cgroup: the one vocabulary of {@code migrate}'s result, the
 * migration log ({@code migrations.jsonl}, {@code bpfcharge_migrations_total}), the hook's log and the node
 * agent's log and {@code bpfcharge_recharges_total}. Each writer uses the values that can happen to it; the table
 * is in docs/migration.md ("One vocabulary of results").
 */
public enum Result {
    /** Its charge moved to the target: the replacement stands at every pin and slot. */
    MIGRATED,
    /** Already charged to the target: nothing done. */
    UNCHANGED,
    /** A dry run: nothing changed. */
    DRY_RUN,
    /** A hook rule's pattern matched no pin. */
    NO_MATCH,
    /** Claimed by two running containers in different memcgs (the agent): left where it is. */
    CONFLICT,
    /** Cannot be migrated as it is or as asked (held, unsafe pin path, ...): nothing changed. */
    REFUSED,
    /** The migration failed, or could not start; the old map stands. */
    FAILED,
    /** The migration was undone after it had begun (a recovery, or a holder after the swap); the old map stands. */
    ROLLED_BACK;

    /** As JSON, logs and metric labels write it. */
    public String jsonName() { return name().toLowerCase(Locale.ROOT); }

    /** As a human log line writes it. */
    public String words() { return jsonName().replace('_', ' '); }

    public boolean failure() { return this == REFUSED || this == FAILED || this == ROLLED_BACK; }

    /** The result a log line names; empty for one this version does not know. Logs written before the one
     *  vocabulary said {@code ok} and {@code noop}; a node upgraded without a reboot still has them in /run. */
    public static Optional<Result> of(String jsonName) {
        switch (jsonName) {
            case "ok": return Optional.of(MIGRATED);
            case "noop": return Optional.of(UNCHANGED);
            default:
                for (Result r : values()) if (r.jsonName().equals(jsonName)) return Optional.of(r);
                return Optional.empty();
        }
    }
}
