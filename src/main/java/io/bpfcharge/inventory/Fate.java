package io.bpfcharge.inventory;

/**
 * What killing every task in the subtree of a map's memcg would do to the map: free it, or not, and why not.
 * Worked out by {@link Survival}.
 */
public enum Fate {
    /** Every reference belongs to tasks of the subtree (their fds, programs, links, outer maps): freed. */
    FREED("freed"),
    /** A pin in bpffs keeps it. */
    PINNED("pinned"),
    /** A process outside the subtree has an fd on it. */
    HELD_OUTSIDE("held_outside"),
    /** A program uses it that something outside keeps (a pin, a link or fd outside, an attachment). */
    PROGRAM_KEPT("program_kept"),
    /** It sits in a slot of a map-of-maps that survives. */
    OUTER_KEPT("outer_kept"),
    /**
     * The kernel counts more references than bpfcharge can name: an attachment made without a link, a
     * prog_array slot, a pin in another mount namespace's bpffs, a holder that came or went mid-scan.
     */
    UNSEEN_REFERENCE("unseen_reference");

    private final String label;

    Fate(String label) { this.label = label; }

    /** The name in JSON. */
    public String label() { return label; }

    public boolean freed() { return this == FREED; }
}
