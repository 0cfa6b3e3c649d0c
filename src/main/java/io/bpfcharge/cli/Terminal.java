package io.bpfcharge.cli;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** The width of the terminal a table goes to. */
final class Terminal {
    private Terminal() {}

    /** Columns of the terminal on stdout; unlimited when stdout is not a terminal (a pipe keeps whole lines). */
    static int columns() {
        if (System.console() == null || !System.console().isTerminal()) return Integer.MAX_VALUE;
        String env = System.getenv("COLUMNS");
        if (env != null && env.matches("\\d+")) return Integer.parseInt(env);
        try { // COLUMNS is a shell variable, rarely exported: ask the tty
            Process p = new ProcessBuilder("stty", "size").redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor(2, TimeUnit.SECONDS) && out.matches("\\d+ \\d+")) return Integer.parseInt(out.split(" ")[1]);
        } catch (IOException e) {
            // no tty
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 80;
    }
}
