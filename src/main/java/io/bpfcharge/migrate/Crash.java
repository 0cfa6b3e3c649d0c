package io.bpfcharge.migrate;

/**
 * Crash injection for the recovery tests: with {@code BPFCHARGE_CRASH_AT=STEP} the process halts at that
 * step without any cleanup, as a kill -9 would leave it. Unset in production, where this does nothing.
 */
final class Crash {
    private static final String AT = System.getenv("BPFCHARGE_CRASH_AT");
    static final int EXIT = 137;

    private Crash() {}

    static void point(String step) {
        if (step.equals(AT)) Runtime.getRuntime().halt(EXIT);
    }
}
