package io.bpfcharge.migrate;

import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.inventory.MapRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HexFormat;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Points a migration's references at one map or the other: every map-of-maps slot (one atomic update each) and
 * every pin (rename(2) of a new pin over it). Only references that still hold the map being replaced change: one
 * its owner changed meanwhile is theirs. Both directions (the swap, and the swap back) use the same code.
 */
final class Swap {
    private Swap() {}

    /** Puts {@code to} into every journaled slot that still holds map {@code fromId}. */
    static void slots(Journal.Entry e, int fromId, MapFd to) {
        boolean first = true;
        for (MapRecord.Slot s : e.slots()) {
            ByteBuffer key = ByteBuffer.wrap(HexFormat.of().parseHex(s.key()));
            Optional<MapFd> found = MapFd.find(s.outerId());
            if (found.isEmpty()) continue; // the outer map is gone
            try (MapFd outer = found.get()) {
                // Only a slot still holding that map: one the owner changed meanwhile is theirs.
                OptionalInt held = outer.innerMapId(key);
                if (held.isEmpty() || held.getAsInt() != fromId) continue;
                outer.setInnerMap(key, to);
            }
            if (first) Crash.point("swap");
            first = false;
        }
    }

    /** Pins {@code to} over every journaled pin that still holds map {@code fromId}. */
    static void pins(Journal.Entry e, int fromId, MapFd to) {
        for (int i = 0; i < e.pins().size(); i++) {
            Path pin = Path.of(e.pins().get(i));
            Optional<BpfFd> found = BpfFd.findPin(pin);
            if (found.isEmpty()) continue; // unpinned by its owner meanwhile
            try (BpfFd cur = found.get()) {
                if (!(cur instanceof MapFd m) || m.info().id() != fromId) continue; // done, or replaced by its owner
            }
            Path tmp = e.repinTemp(i);
            Journal.delete(tmp.toString());
            to.pin(tmp);
            try {
                Files.move(tmp, pin, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces the old pin atomically
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot rename " + tmp + " over " + pin + ": " + ex.getMessage(), ex);
            }
            Crash.point("swap");
        }
    }
}
