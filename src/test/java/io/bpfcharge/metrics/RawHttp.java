package io.bpfcharge.metrics;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * A raw HTTP/1.x client on one socket, for what curl and Java's HttpClient tidy away: malformed
 * requests, the bytes of status lines and chunks, whether the server kept or closed the connection.
 */
final class RawHttp implements AutoCloseable {
    /** A response: its status line, its header lines ("Name: value") and its body as sent (still gzipped, if it was). */
    record Answer(String status, List<String> headers, byte[] body) {
        /** Every value of a header, by name in any case. */
        List<String> all(String name) {
            List<String> out = new ArrayList<>();
            for (String h : headers)
                if (h.regionMatches(true, 0, name + ":", 0, name.length() + 1)) out.add(h.substring(name.length() + 1).strip());
            return out;
        }

        String header(String name) { return all(name).stream().findFirst().orElse(null); }

        /** The body as text, gunzipped when Content-Encoding says gzip. */
        String text() throws IOException {
            byte[] b = body;
            if ("gzip".equals(header("Content-Encoding"))) try (GZIPInputStream z = new GZIPInputStream(new java.io.ByteArrayInputStream(b))) {
                b = z.readAllBytes();
            }
            return new String(b, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final InputStream in;

    RawHttp(URI base) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(base.getHost().replaceAll("[\\[\\]]", ""), base.getPort()), 5000);
        socket.setSoTimeout(30_000); // the daemon's longest deadline is the idle one (60 s); none of these waits for it
        in = socket.getInputStream();
    }

    RawHttp send(String request) throws IOException { return send(request.getBytes(StandardCharsets.ISO_8859_1)); }

    RawHttp send(byte[] request) throws IOException {
        socket.getOutputStream().write(request);
        return this;
    }

    /** Sends a request and reads its answer; {@code head}: the answer to a HEAD request, which has no body. */
    Answer exchange(String request) throws IOException { return send(request).read(request.startsWith("HEAD ")); }

    /** The next answer; its status is "" when the server closed the connection before sending one. */
    Answer read(boolean head) throws IOException {
        String status = line();
        if (status == null) return new Answer("", List.of(), new byte[0]);
        List<String> headers = new ArrayList<>();
        for (String l; !(l = lineOrThrow()).isEmpty(); ) headers.add(l);
        Answer a = new Answer(status, headers, new byte[0]);
        if (head) return a;
        String length = a.header("Content-Length");
        if (length != null) return new Answer(status, headers, in.readNBytes(Integer.parseInt(length)));
        if ("chunked".equals(a.header("Transfer-Encoding"))) return new Answer(status, headers, chunks());
        return new Answer(status, headers, in.readAllBytes()); // delimited by the close
    }

    /** True when the server closed the connection (it sends nothing more). */
    boolean closedByServer() throws IOException { return in.read() < 0; }

    private byte[] chunks() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(lineOrThrow().split(";")[0].strip(), 16)) > 0; ) {
            body.write(in.readNBytes(size));
            if (!lineOrThrow().isEmpty()) throw new IOException("a chunk not followed by CRLF");
        }
        while (!lineOrThrow().isEmpty()) { } // trailer fields, none expected
        return body.toByteArray();
    }

    private String lineOrThrow() throws IOException {
        String l = line();
        if (l == null) throw new IOException("closed in a response");
        return l;
    }

    /** A line without its CRLF; null at the close before its first byte. */
    private String line() throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) != '\n'; b.append((char) c))
            if (c < 0) {
                if (b.isEmpty()) return null;
                throw new IOException("closed in a line: " + b);
            }
        if (b.isEmpty() || b.charAt(b.length() - 1) != '\r') throw new IOException("a line not ended by CRLF: " + b);
        return b.substring(0, b.length() - 1);
    }

    @Override
    public void close() throws IOException { socket.close(); }
}
