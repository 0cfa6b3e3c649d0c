package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;

import javax.net.ssl.SSLSocket;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * A small HTTP/1.1 server for the exporter's read-only endpoints, bounded against hostile clients
 * (the JDK's com.sun.net.httpserver is not: see docs/serve-limits.md):
 * <ul>
 * <li>at most {@code maxConnections} open connections; one past that is closed right after accept
 * (plain HTTP: after a short 503), so a flood costs a socket for microseconds, not a thread or heap;</li>
 * <li>one virtual thread per connection, and one reaper thread that closes a connection past its
 * deadline: the request head (TLS handshake included) within {@link #HEAD_TIMEOUT}, the next request
 * on an idle keep-alive connection within {@link #IDLE_TIMEOUT}, the response within
 * {@link #WRITE_TIMEOUT}; a trickle of bytes does not extend a deadline;</li>
 * <li>a head over {@link #MAX_HEAD} bytes gets 431, a malformed one 400; request bodies are never read
 * (their connection is closed after the response);</li>
 * <li>an {@link Error} in any of its threads (OutOfMemoryError, StackOverflowError) ends the process:
 * a server that lost a thread or a lock would live on serving nothing, while a service manager
 * restarts a process that exits.</li>
 * </ul>
 */
final class Http1Server implements AutoCloseable {
    /** Prometheus sends about 300 bytes; 8 KB is what nginx, Tomcat and Jetty allow by default. */
    static final int MAX_HEAD = 8 * 1024;
    static final Duration HEAD_TIMEOUT = Duration.ofSeconds(10);
    /** Above Prometheus' usual scrape intervals (15-30 s), so its keep-alive connection is reused. */
    static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    /** A warm scrape is written in milliseconds and a fresh scan of 10,000 maps takes 150 ms. */
    static final Duration WRITE_TIMEOUT = Duration.ofSeconds(30);
    /** How long a connection closed after an error response may go on sending before it is cut. */
    private static final Duration LINGER = Duration.ofSeconds(2);
    private static final long TICK_MILLIS = 250;
    // Written in pieces: the socket copies each write into a temporary direct buffer of its size, and a
    // whole 155 KB page per busy connection would add up against -XX:MaxDirectMemorySize.
    private static final int WRITE_CHUNK = 16 * 1024;
    private static final byte[] BUSY = ("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n"
            + "Retry-After: 1\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

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

    /** Answers one request; it never reads a body. */
    interface Handler {
        Response handle(RequestHead head);
    }

    /** A whole response; {@code headers} are extra "Name: value" lines. */
    record Response(int status, String contentType, byte[] body, List<String> headers) {
        static Response text(int status, String body, String... headers) {
            return new Response(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), List.of(headers));
        }
    }

    private final ServerSocket listener;
    private final TlsSockets tls;
    private final Handler handler;
    private final Semaphore slots;
    private final PerSource perSource;
    private final Consumer<Drop> dropped;
    private final Set<Connection> open = ConcurrentHashMap.newKeySet();
    private final ThreadFactory connectionThreads = Thread.ofVirtual().name("bpfcharge-http").uncaughtExceptionHandler(Http1Server::fatal).factory();
    private volatile boolean closed;

    private Http1Server(ServerSocket listener, TlsSockets tls, int maxConnections, int maxPerSource, Handler handler,
                        Consumer<Drop> dropped) {
        this.listener = listener;
        this.dropped = dropped;
        this.tls = tls;
        this.handler = handler;
        this.slots = new Semaphore(maxConnections);
        this.perSource = new PerSource(maxPerSource);
    }

    /**
     * Binds and starts serving; throws IOException when the address cannot be bound.
     * @param dropped told of every connection closed by a limit (from the accept and deadline threads: keep it quick)
     */
    static Http1Server start(InetSocketAddress address, TlsSockets tls, int maxConnections, int maxPerSource,
                             Handler handler, Consumer<Drop> dropped) throws IOException {
        ServerSocket listener = new ServerSocket();
        try {
            listener.setReuseAddress(true);
            listener.bind(address, 1024);
        } catch (IOException e) {
            listener.close();
            throw e;
        }
        Http1Server s = new Http1Server(listener, tls, maxConnections, maxPerSource, handler, dropped);
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
                dropped.accept(Drop.PER_SOURCE);
                continue;
            }
            if (!slots.tryAcquire()) {
                perSource.release(s.getInetAddress());
                refuse(s);
                dropped.accept(Drop.MAX_CONNECTIONS);
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
                if (!c.cut && d.onExpiry() != null) dropped.accept(d.onExpiry()); // counted before the client sees the close
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
                SSLSocket ssl = tls.wrap(s);
                c.app = s = ssl; // the handshake happens at the first read, under the head deadline
            }
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[1024];
            int len = 0;
            boolean idle = false;
            while (true) {
                int end = RequestHead.end(buf, 0, len);
                while (end < 0) {
                    if (len == buf.length) {
                        if (len == MAX_HEAD) {
                            reject(c, in, out, 431, "request head over " + MAX_HEAD + " bytes\n");
                            return;
                        }
                        buf = Arrays.copyOf(buf, Math.min(MAX_HEAD, 2 * len));
                    }
                    int n = in.read(buf, len, buf.length - len);
                    if (n < 0) return;
                    if (idle) {
                        idle = false;
                        c.deadline(HEAD_TIMEOUT, Drop.HEAD_DEADLINE);
                    }
                    len += n;
                    end = RequestHead.end(buf, len - n - 3, len);
                }
                RequestHead head;
                try {
                    head = RequestHead.parse(buf, end);
                } catch (RequestHead.Malformed m) {
                    reject(c, in, out, m.status, m.getMessage() + "\n");
                    return;
                }
                c.deadline(WRITE_TIMEOUT, Drop.RESPONSE_DEADLINE);
                boolean keep = head.keepAlive() && !head.hasBody() && !closed;
                write(out, head.method().equals("HEAD"), handler.handle(head), keep);
                if (!keep) {
                    linger(c, in, out);
                    return;
                }
                len -= end;
                System.arraycopy(buf, end, buf, 0, len); // a pipelined next request
                idle = len == 0;
                if (idle) c.deadline(IDLE_TIMEOUT, Drop.IDLE_DEADLINE);
                else c.deadline(HEAD_TIMEOUT, Drop.HEAD_DEADLINE);
            }
        } catch (IOException | RuntimeException e) {
            // The client went away, broke the protocol or ran out of time: nobody to answer.
        } finally {
            c.deadline(LINGER, null);
            c.close();
            open.remove(c);
            slots.release();
            perSource.release(c.raw.getInetAddress());
        }
    }

    private static void reject(Connection c, InputStream in, OutputStream out, int status, String why) throws IOException {
        write(out, false, Response.text(status, why), false);
        linger(c, in, out);
    }

    /**
     * Closes our side first and reads what the client still sends, for a short while: closing a socket
     * with unread input sends a reset, which can destroy the response before the client reads it.
     */
    private static void linger(Connection c, InputStream in, OutputStream out) throws IOException {
        c.deadline(LINGER, null); // the answer is out: cutting a client that keeps sending is no drop
        try {
            c.app.shutdownOutput();
        } catch (IOException | UnsupportedOperationException e) {
            out.close();
        }
        byte[] sink = new byte[1024];
        while (in.read(sink) >= 0) {
            // discard until the client closes or the deadline cuts the connection
        }
    }

    private static void write(OutputStream out, boolean head, Response r, boolean keepAlive) throws IOException {
        StringBuilder h = new StringBuilder(256).append("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status()))
                .append("\r\nDate: ").append(DATE.format(ZonedDateTime.now(ZoneOffset.UTC)))
                .append("\r\nContent-Type: ").append(r.contentType())
                .append("\r\nContent-Length: ").append(r.body().length).append("\r\n");
        for (String line : r.headers()) h.append(line).append("\r\n");
        if (!keepAlive) h.append("Connection: close\r\n");
        out.write(h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        byte[] body = r.body();
        if (!head) for (int off = 0; off < body.length; off += WRITE_CHUNK) out.write(body, off, Math.min(WRITE_CHUNK, body.length - off));
        out.flush();
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status " + status;
        };
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One accepted connection: the raw socket is what the reaper closes (closing it unblocks any read or write). */
    private static final class Connection {
        final Socket raw;
        volatile Socket app;
        /** When it is cut, and what that means; read whole by the reaper, so the two never tear. */
        volatile Deadline deadline;
        /** Touched by the reaper thread alone: it ticks again until the connection's thread ends. */
        boolean cut;

        /** {@code onExpiry} is null when passing it is no drop (lingering after an answer). */
        record Deadline(long atNanos, Drop onExpiry) {}

        Connection(Socket raw) {
            this.raw = raw;
            this.app = raw;
            deadline(HEAD_TIMEOUT, Drop.HEAD_DEADLINE);
        }

        void deadline(Duration d, Drop onExpiry) { deadline = new Deadline(System.nanoTime() + d.toNanos(), onExpiry); }

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
