package io.bpfcharge.metrics;

import java.io.Closeable;
import java.io.IOException;
import java.net.Socket;
import java.time.Duration;

/** One accepted connection: the raw socket is what the reaper closes (closing it unblocks any read or write). */
final class Connection {
    final Socket raw;
    /** The socket requests are read from: {@link #raw}, or the TLS socket over it. */
    volatile Socket app;
    /** When it is cut, and what that means; read whole by the reaper, so the two never tear. */
    volatile Deadline deadline;
    /** Touched by the reaper thread alone: it ticks again until the connection's thread ends. */
    boolean cut;

    /** {@code onExpiry} is null when passing it is no drop (lingering after an answer). */
    record Deadline(long atNanos, Http1Server.Drop onExpiry) {}

    Connection(Socket raw) {
        this.raw = raw;
        this.app = raw;
        deadline(Http1Server.HEAD_TIMEOUT, Http1Server.Drop.HEAD_DEADLINE);
    }

    void deadline(Duration d, Http1Server.Drop onExpiry) { deadline = new Deadline(System.nanoTime() + d.toNanos(), onExpiry); }

    /** Closes the socket under the connection's thread, which then ends. */
    void abort() { quietly(raw); }

    /** TLS first (its close_notify), then the socket below it. */
    void close() {
        if (app != raw) quietly(app);
        quietly(raw);
    }

    private static void quietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // closing is all we wanted
        }
    }
}
