package io.bpfcharge.host;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ProcessInfoTest {
    private static final Instant NOW = Instant.parse("2026-12-07T03:00:00Z");

    @Test
    void aSummaryNamesTheCommandTheUserAndTheAgeInItsLargestUnit() {
        ProcessInfo p = new ProcessInfo(1000, "app", "python3 /app/server.py", NOW.minus(Duration.ofMinutes(200)));
        assertEquals("python3 /app/server.py, user app (uid 1000), running 3 h", p.summary("python3", NOW));
    }

    /** A container's uid the host has no name for, and a kernel thread's empty command line. */
    @Test
    void aUidWithoutANameAndAnEmptyCommandLine() {
        ProcessInfo p = new ProcessInfo(100999, "100999", "", NOW.minusSeconds(40));
        assertEquals("kworker/0:1, uid 100999, running 40 s", p.summary("kworker/0:1", NOW));
    }

    @Test
    void aLongCommandLineIsCut() {
        ProcessInfo p = new ProcessInfo(0, "root", "java -cp " + "x".repeat(500) + " Main", NOW.minus(Duration.ofDays(2)));
        assertEquals("java -cp " + "x".repeat(111) + "..., user root (uid 0), running 2 d", p.summary("java", NOW));
    }

    @Test
    void agesInWholeUnits() {
        assertEquals("59 s", ProcessInfo.age(Duration.ofSeconds(59)));
        assertEquals("1 min", ProcessInfo.age(Duration.ofSeconds(60)));
        assertEquals("59 min", ProcessInfo.age(Duration.ofSeconds(3599)));
        assertEquals("23 h", ProcessInfo.age(Duration.ofHours(23)));
        assertEquals("1 d", ProcessInfo.age(Duration.ofHours(24)));
        assertEquals("0 s", ProcessInfo.age(Duration.ofSeconds(-1)), "a start a tick in the future is no negative age");
    }
}
