package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;

/**
 * A small HTTP/1.1 server for the exporter's read-only endpoints, bounded against hostile clients
 * (the JDK's com.sun.net.httpserver is not: see docs/serve-limits.md). This class runs the
 * connections' lives; {@link RequestLoop} serves the requests of one, {@link ResponseWriter} writes
 * the answers.
 * <ul>
 * <li>at most {@code maxConnections} open connections; one past that is closed right after accept
 * (plain HTTP: after a short 503), so a flood costs a socket for microseconds, not a thread or heap;</li>
 * <li>one virtual thread per connection, and one reaper thread that closes a connection past its
 * deadline: the request head (TLS handshake included) within {@link #HEAD_TIMEOUT}, the next request
 * on an idle keep-alive connection within {@link #IDLE_TIMEOUT}, the response within
 * {@link #WRITE_TIMEOUT}; a trickle of bytes does not extend a deadline;</li>
 * <li>a head over {@link RequestLoop#MAX_HEAD} bytes gets 431, a malformed one 400 as soon as that is
 * clear; request bodies are never read (their connection is closed after the response);</li>
 * <li>a RuntimeException while serving is a bug: a 500, one log line per exception class, a count;</li>
 * <li>an {@link Error} in any of its threads (OutOfMemoryError, StackOverflowError) ends the process:
 * a server that lost a thread or a lock would live on serving nothing, while a service manager
 * restarts a process that exits.</li>
 * </ul>
 */
final class Http1Server implements AutoCloseable {
    static final Duration HEAD_TIMEOUT = Duration.ofSeconds(10);
    /** Above Prometheus' usual scrape intervals (15-30 s), so its keep-alive connection is reused. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** A warm scrape is written in milliseconds and a fresh scan of 10,000 maps takes 150 ms. */
    static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a connection closed after an error response may go on sending before it is cut. */
    static final Duration LINGER = Duration.ofSeconds(2);
    private static final long TICK_MILLIS = 250;
    private static final byte[] BUSY = ("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n"
            + "Retry-After: 1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);

    /** Why the server closed a connection without a response the client waited for (an operator's signal of abuse). */
    enum Drop {
        /** Past --max-connections: closed right after accept. */
        MAX_CONNECTIONS,
        /** Past --max-connections-per-source for the client's address: closed right after accept. */
        PER_SOURCE,
        /** The request head (TLS handshake included) did not arrive in time. */
        HEAD_DEADLINE,
        /** A keep-alive connection sent no next request in time. */
        IDLE_DEADLINE,
        /** The client did not read the response in time. */
        RESPONSE_DEADLINE;

        String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** Why the server answered with an error of its own rather than the endpoint's answer. */
    enum Failure {
        /** 400: a malformed request line or header, no Host, HTTP/0.9, a TLS handshake on the plain port. */
        BAD_REQUEST,
        /** 431: a request head over 8 KB. */
        HEAD_TOO_LARGE,
        /** 505: an HTTP version other than 1.0 and 1.1. */
        UNSUPPORTED_VERSION,
        /** 500: a bug (a RuntimeException) while serving. */
        INTERNAL_ERROR;

        String label() { return name().toLowerCase(Locale.ROOT); }
    }

    /** What the server tells its owner, from the accept, deadline and connection threads: keep it quick. */
    interface Events {
        /** A connection closed by a limit, counted before the client sees the close. */
        void dropped(Drop why);

        /** A request answered with an error of the server's own. */
        void failed(Failure why);
    }

    /** Answers one request; it never reads a body. */
    interface Handler {
        Response handle(RequestHead head);
    }

    private final ServerSocket listener;
    private final TlsSockets tls;
    private final Handler handler;
    private final Semaphore slots;
    private final PerSource perSource;
    private final Events events;
    private final ResponseWriter writer = new ResponseWriter();
    /** Exception classes already logged: a bug is logged once, then only counted. */
    private final Set<Class<?>> logged = ConcurrentHashMap.newKeySet();
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final ThreadFactory connectionThreads = Thread.ofVirtual().name("bpfcharge-http").uncaughtExceptionHandler(Http1Server::fatal).factory();
    private volatile boolean closed;

    private Http1Server(ServerSocket listener, TlsSockets tls, int maxConnections, int maxPerSource, Handler handler, Events events) {
        this.listener = listener;
        this.events = events;
        this.tls = tls;
        this.handler = handler;
        this.slots = new Semaphore(maxConnections);
        this.perSource = new PerSource(maxPerSource);
    }

    /** Binds and starts serving; throws IOException when the address cannot be bound. */
    static Http1Server start(InetSocketAddress address, TlsSockets tls, int maxConnections, int maxPerSource,
                             Handler handler, Events events) throws IOException {
        ServerSocket listener = new ServerSocket();
        try {
            listener.setReuseAddress(true);
            listener.bind(address, 1024);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        Http1Server s = new Http1Server(listener, tls, maxConnections, maxPerSource, handler, events);
        Thread.ofPlatform().daemon().name("bpfcharge-http-accept").uncaughtExceptionHandler(Http1Server::fatal).start(s::accept);
        Thread.ofPlatform().daemon().name("bpfcharge-http-deadlines").uncaughtExceptionHandler(Http1Server::fatal).start(s::reap);
        return s;
    }

    InetSocketAddress address() { return (InetSocketAddress) listener.getLocalSocketAddress(); }

    boolean tls() { return tls != null; }

    /** The process cannot trust its own state after an Error: say so in one line and exit 1. */
    static void fatal(Thread thread, Throwable e) {
        try {
            System.err.println("bpfcharge: serve: " + e + " in thread " + thread.getName()
                    + ": exiting so that the service manager restarts it");
            System.err.flush();
        } finally {
            Runtime.getRuntime().halt(BpfchargeException.Exit.FAILED.code);
        }
    }

    private void accept() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (closed) return;
                // Out of file descriptors or the like: the next connections wait in the listen backlog.
                sleep(100);
                continue;
            }
            if (!perSource.tryAcquire(s.getInetAddress())) {
                refuse(s);
                events.dropped(Drop.PER_SOURCE);
                continue;
            }
            if (!slots.tryAcquire()) {
                perSource.release(s.getInetAddress());
                refuse(s);
                events.dropped(Drop.MAX_CONNECTIONS);
                continue;
            }
            Connection c = new Connection(s);
            open.add(c);
            connectionThreads.newThread(() -> serve(c)).start();
        }
    }

    /** Past the limit: a few bytes into the fresh socket's empty send buffer (never blocks), then close. */
    private void refuse(Socket s) {
        try (s) {
            if (tls == null) s.getOutputStream().write(BUSY);
        } catch (IOException e) {
            // gone already
        }
    }

    private void reap() {
        while (!closed) {
            sleep(TICK_MILLIS);
            long now = System.nanoTime();
            for (Connection c : open) {
                Connection.Deadline d = c.deadline;
                if (now - d.atNanos() <= 0) continue;
                if (!c.cut && d.onExpiry() != null) events.dropped(d.onExpiry()); // counted before the client sees the close
                c.cut = true;
                c.abort();
            }
        }
    }

    private void serve(Connection c) {
        try {
            Socket s = c.raw;
            s.setTcpNoDelay(true);
            if (tls != null) {
                c.app = tls.wrap(s); // the handshake happens at the first read, under the head deadline
            }
            new RequestLoop(this, c).run();
        } catch (IOException e) {
            // The client went away, broke the protocol or ran out of time: nobody to answer.
        } catch (RuntimeException e) {
            bug(e, "serving a connection"); // with the answer begun, or in TLS set-up: only the log can be told
        } finally {
            c.deadline(LINGER, null);
            c.close();
            open.remove(c);
            slots.release();
            perSource.release(c.raw.getInetAddress());
        }
    }

    Handler handler() { return handler; }

    ResponseWriter writer() { return writer; }

    Events events() { return events; }

    /** True once the server is closing: no connection is kept for another request. */
    boolean closing() { return closed; }

    /**
     * A RuntimeException while serving is a bug of ours: counted, logged in one line the first time
     * its class is seen (a client that triggers it on every request must not flood the log), and
     * answered 500 where an answer can still go out.
     */
    Response bug(RuntimeException e, String doing) {
        events.failed(Failure.INTERNAL_ERROR);
        if (logged.add(e.getClass()))
            System.err.println("bpfcharge: serve: bug: " + e + (e.getStackTrace().length > 0 ? " at " + e.getStackTrace()[0] : "")
                    + " while " + doing + ": answered 500 where possible; further " + e.getClass().getSimpleName()
                    + "s are only counted in bpfcharge_http_errors_total{reason=\"internal_error\"}: please report this");
        return Response.text(500, "internal error: the exporter's log says more\n");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException e) {
            // not listening any more either way
        }
        for (Connection c : open) c.abort();
    }
}
