package io.bpfcharge.agent;

import io.bpfcharge.migrate.Result;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LedgerTest {
    static final long S = 1_000_000_000L;
    final Ledger ledger = new Ledger();
    final Container.Instance first = new Container.Instance("c", 100, 5), restarted = new Container.Instance("c", 200, 9);

    @Test
    void aRefusalIsReportedOncePerContainerStart() {
        ledger.running(Set.of(first), 0);
        assertTrue(ledger.report(first, "/p#7", "/p", Result.REFUSED));
        assertFalse(ledger.report(first, "/p#7", "/p", Result.REFUSED), "every interval would log it again");
        assertTrue(ledger.report(first, "/p#7", "/p", Result.FAILED), "a different result is news");
        ledger.running(Set.of(restarted), S);
        assertTrue(ledger.report(restarted, "/p#7", "/p", Result.REFUSED), "a new start reports again");
    }

    @Test
    void noMatchIsReportedOnceToo() {
        ledger.running(Set.of(first), 0);
        assertTrue(ledger.report(first, "/p/*#0", "/p/*", null));
        assertFalse(ledger.report(first, "/p/*#0", "/p/*", null));
    }

    @Test
    void everyMigrationCountsButTheReplacementIsNotReportedUnchanged() {
        ledger.running(Set.of(first), 0);
        assertTrue(ledger.report(first, "/p#7", "/p", Result.MIGRATED));
        assertFalse(ledger.report(first, "/p#8", "/p", Result.UNCHANGED), "map 8 is the agent's own replacement");
        assertTrue(ledger.report(first, "/p#8", "/p", Result.MIGRATED), "moved again (e.g. taken by another tool meanwhile)");
    }

    @Test
    void theLatencyIsMeasuredOncePerStartFromFirstSeen() {
        ledger.running(Set.of(first), 10 * S);
        ledger.running(Set.of(first), 11 * S);
        assertEquals(2 * S, ledger.charged(first, 12 * S));
        assertEquals(-1, ledger.charged(first, 13 * S));
    }

    @Test
    void failuresBackOffDoublingUpToTenMinutesAndASuccessClearsIt() {
        assertTrue(ledger.due("id:7", 0));
        ledger.failed("id:7", 0);
        assertFalse(ledger.due("id:7", S));
        assertTrue(ledger.due("id:7", 2 * S));
        ledger.failed("id:7", 2 * S);
        assertFalse(ledger.due("id:7", 5 * S));
        assertTrue(ledger.due("id:7", 6 * S));
        for (int i = 0; i < 20; i++) ledger.failed("id:7", 0);
        assertTrue(ledger.due("id:7", 600 * S));
        assertEquals(600 * S, ledger.nextDue(Long.MAX_VALUE));
        ledger.succeeded("id:7");
        assertTrue(ledger.due("id:7", 0));
        assertEquals(42, ledger.nextDue(42));
    }

    @Test
    void backOffsOfMapsNoLongerClaimedAreForgotten() {
        ledger.failed("id:7", 0);
        ledger.claimed(Set.of("id:8"));
        assertTrue(ledger.due("id:7", 0));
    }
}
