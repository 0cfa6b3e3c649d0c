package io.bpfcharge.metrics;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.zip.GZIPOutputStream;

/**
 * Writes responses: with Content-Length, or gzipped as they are written, in chunks. Bodies go out
 * in {@link #WRITE_CHUNK} pieces either way: the socket copies each write into a temporary direct
 * buffer of its size, and a whole 155 KB page per busy connection would add up against
 * -XX:MaxDirectMemorySize.
 */
final class ResponseWriter {
    static final int WRITE_CHUNK = 16 * 1024;
    /**
     * Responses gzipped at once. zlib holds about 256 KB outside the heap per stream, whatever the
     * level; past this many, a response goes out uncompressed, which every client takes.
     */
    static final int MAX_GZIP = 16;
    private static final DateTimeFormatter DATE = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US);

    private final Semaphore gzipStreams = new Semaphore(MAX_GZIP);

    /**
     * Writes {@code r} as the answer to {@code request} (null: a request that could not be read).
     * Gzip needs chunked transfer coding, so an HTTP/1.0 client gets the identity body (RFC 9112 7.1).
     */
    void write(OutputStream out, RequestHead request, Response r, boolean keepAlive) throws IOException {
        boolean head = request != null && request.method().equals("HEAD");
        boolean gzip = r.compressible() && request != null && request.http11() && Negotiation.gzip(request.header("accept-encoding"))
                && (head || gzipStreams.tryAcquire());
        StringBuilder h = new StringBuilder(256).append("HTTP/1.1 ").append(r.status()).append(' ').append(reason(r.status()))
                .append("\r\nDate: ").append(DATE.format(ZonedDateTime.now(ZoneOffset.UTC)))
                .append("\r\nContent-Type: ").append(r.contentType()).append("\r\n");
        if (gzip) h.append("Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n");
        else h.append("Content-Length: ").append(r.body().length).append("\r\n");
        if (r.compressible()) h.append("Vary: Accept-Encoding\r\n");
        for (String line : r.headers()) h.append(line).append("\r\n");
        if (!keepAlive) h.append("Connection: close\r\n");
        else if (request != null && !request.http11()) h.append("Connection: keep-alive\r\n"); // HTTP/1.0 closes unless told
        out.write(h.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
        if (head) {
            out.flush();
            return;
        }
        if (!gzip) {
            writeBody(out, r.body());
            out.flush();
            return;
        }
        try (GZIPOutputStream z = new GZIPOutputStream(new Chunked(out), WRITE_CHUNK)) { // closing it ends zlib's stream
            writeBody(z, r.body());
        } finally {
            gzipStreams.release();
        }
    }

    private static void writeBody(OutputStream out, byte[] body) throws IOException {
        for (int off = 0; off < body.length; off += WRITE_CHUNK) out.write(body, off, Math.min(WRITE_CHUNK, body.length - off));
    }

    /** The chunked transfer coding (RFC 9112 7.1): each write one chunk, sent in one piece; close sends the last chunk. */
    private static final class Chunked extends OutputStream {
        private final OutputStream out;
        private final byte[] frame = new byte[WRITE_CHUNK + 16];

        Chunked(OutputStream out) { this.out = out; }

        @Override
        public void write(int b) throws IOException { write(new byte[]{(byte) b}, 0, 1); }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            for (int done = 0; done < len; ) {
                int n = Math.min(WRITE_CHUNK, len - done);
                byte[] size = (Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.ISO_8859_1);
                System.arraycopy(size, 0, frame, 0, size.length);
                System.arraycopy(b, off + done, frame, size.length, n);
                frame[size.length + n] = '\r';
                frame[size.length + n + 1] = '\n';
                out.write(frame, 0, size.length + n + 2);
                done += n;
            }
        }

        @Override
        public void flush() throws IOException { out.flush(); }

        /** The last chunk; the socket stays open for the next request. */
        @Override
        public void close() throws IOException {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
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
}
