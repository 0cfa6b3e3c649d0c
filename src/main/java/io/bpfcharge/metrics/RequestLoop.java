package io.bpfcharge.metrics;

import io.bpfcharge.metrics.Http1Server.Drop;
import io.bpfcharge.metrics.Http1Server.Failure;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Reads the requests of one connection and answers each: keep-alive and pipelining, the head's
 * size and deadlines, and an answer to everything that can be answered (a malformed head gets its
 * 4xx, a bug in the handler a 500) before the connection is closed.
 */
final class RequestLoop {
    /** Prometheus sends about 300 bytes; 8 KB is what nginx, Tomcat and Jetty allow by default. */
    static final int MAX_HEAD = 8 * 1024;

    private final Http1Server server;
    private final Connection c;
    private InputStream in;
    private OutputStream out;
    private byte[] buf = new byte[1024];
    private int len;

    RequestLoop(Http1Server server, Connection c) {
        this.server = server;
        this.c = c;
    }

    /** Serves until the client closes, asks to close, breaks the protocol or misses a deadline. */
    void run() throws IOException {
        in = c.app.getInputStream();
        out = c.app.getOutputStream();
        boolean idle = false;
        while (true) {
            RequestHead head;
            try {
                head = readHead(idle);
            } catch (RequestHead.Malformed m) {
                server.events().failed(m.status == 505 ? Failure.UNSUPPORTED_VERSION : m.status == 431 ? Failure.HEAD_TOO_LARGE : Failure.BAD_REQUEST);
                reject(Response.text(m.status, m.getMessage() + "\n"));
                return;
            } catch (RuntimeException e) {
                reject(server.bug(e, "reading a request head"));
                return;
            }
            if (head == null) return;
            c.deadline(Http1Server.WRITE_TIMEOUT, Drop.RESPONSE_DEADLINE);
            boolean keep = head.keepAlive() && !head.hasBody() && !server.closing();
            Response r;
            try {
                r = server.handler().handle(head);
            } catch (RuntimeException e) {
                r = server.bug(e, "answering " + head.method() + " " + head.target());
            }
            server.writer().write(out, head, r, keep);
            if (!keep) {
                linger();
                return;
            }
            idle = len == 0;
            if (idle) c.deadline(Http1Server.IDLE_TIMEOUT, Drop.IDLE_DEADLINE);
            else c.deadline(Http1Server.HEAD_TIMEOUT, Drop.HEAD_DEADLINE); // a pipelined next request
        }
    }

    /**
     * The next request head, its bytes taken off the buffer (what follows stays for the next one);
     * null when the client closed the connection. {@code idle}: nothing of it has arrived yet, and
     * its first byte starts the head deadline.
     */
    private RequestHead readHead(boolean idle) throws IOException, RequestHead.Malformed {
        int start = RequestHead.start(buf, len);
        boolean line = RequestHead.checkRequestLine(buf, start, start, len);
        int end = line ? RequestHead.end(buf, start, start, len) : -1;
        while (end < 0) {
            if (len == buf.length) {
                if (len == MAX_HEAD) throw new RequestHead.Malformed(431, "request head over " + MAX_HEAD + " bytes");
                buf = Arrays.copyOf(buf, Math.min(MAX_HEAD, 2 * len));
            }
            int n = in.read(buf, len, buf.length - len);
            if (n < 0) return null;
            if (idle) {
                idle = false;
                c.deadline(Http1Server.HEAD_TIMEOUT, Drop.HEAD_DEADLINE);
            }
            int from = len;
            len += n;
            start = RequestHead.start(buf, len);
            if (!line) line = RequestHead.checkRequestLine(buf, start, from, len);
            if (line) end = RequestHead.end(buf, start, Math.max(start, from - 3), len);
        }
        RequestHead head = RequestHead.parse(buf, start, end);
        len -= end;
        System.arraycopy(buf, end, buf, 0, len);
        return head;
    }

    private void reject(Response r) throws IOException {
        server.writer().write(out, null, r, false);
        linger();
    }

    /**
     * Closes our side first and reads what the client still sends, for a short while: closing a socket
     * with unread input sends a reset, which can destroy the response before the client reads it.
     */
    private void linger() throws IOException {
        c.deadline(Http1Server.LINGER, null); // the answer is out: cutting a client that keeps sending is no drop
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
}
