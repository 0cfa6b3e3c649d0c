package io.bpfcharge.hook;

import io.bpfcharge.inventory.MapRecord;

/**
 * What one pin pattern or map a container claims comes to against one scan: decided already (no pin
 * matched, an unsafe path, already charged there), or a map to migrate into the container's memcg.
 */
public sealed interface Claim {
    record Settled(Outcome outcome) implements Claim {}

    /**
     * @param source who claimed it ("annotation io.bpfcharge.maps", "rule N of FILE")
     * @param pin the pin path it was reached through ("PIN[inner]" for a map in a pinned map-of-maps)
     * @param spec what the Migrator is asked to move: the pin path, or id:N
     * @param map the map as the scan saw it; null when the pin held no map at scan time
     */
    record Move(String source, String pin, String spec, MapRecord map) implements Claim {}
}
