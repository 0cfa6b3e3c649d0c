package io.bpfcharge.testing;

import java.time.Duration;

/** Waits for asynchronous outcomes, multiplied by BPFCHARGE_TEST_TIME_SCALE (the VM stage sets 10: emulation is slow). */
public final class TimeScale {
    private TimeScale() {}

    public static Duration of(Duration d) {
        String s = System.getenv("BPFCHARGE_TEST_TIME_SCALE");
        return s == null || s.isBlank() ? d : d.multipliedBy(Integer.parseInt(s.strip()));
    }
}
