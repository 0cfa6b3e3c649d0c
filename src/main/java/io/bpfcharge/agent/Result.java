package io.bpfcharge.agent;

import java.util.Locale;

/** What the agent did about one claimed map of one container start: the {@code result} label of bpfcharge_recharges_total. */
public enum Result {
    /** Its charge moved to the container's memcg. */
    MIGRATED,
    /** Already charged there. */
    UNCHANGED,
    /** Cannot be migrated as it is (held by a process or program, unsafe pin path, ...). */
    REFUSED,
    /** The migration failed and was rolled back, or could not start. */
    FAILED,
    /** Claimed by two running containers in different memcgs: left where it is. */
    CONFLICT,
    /** --recharge-dry-run: would have been migrated. */
    DRY_RUN;

    public String label() { return name().toLowerCase(Locale.ROOT); }
}
