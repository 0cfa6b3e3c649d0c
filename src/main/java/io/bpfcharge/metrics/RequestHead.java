package io.bpfcharge.metrics;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP/1.x request head (RFC 9112): request line and header fields, as far as a read-only
 * exporter needs them. Bodies are never read: a request that announces one is answered and its
 * connection closed.
 */
record RequestHead(String method, String target, boolean http11, Map<String, String> headers) {
    /** A head that cannot be served, with the status that says why. */
    static final class Malformed extends Exception {
        final int status;

        Malformed(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /**
     * Where the head ends in {@code buf[0, len)}: the index just past its empty line (CRLF CRLF, or
     * bare LF LF, which RFC 9112 lets a server accept), or -1 while it is incomplete.
     */
    static int end(byte[] buf, int from, int len) {
        for (int i = Math.max(1, from); i < len; i++) {
            if (buf[i] != '\n') continue;
            if (buf[i - 1] == '\n') return i + 1;
            if (buf[i - 1] == '\r' && i >= 2 && buf[i - 2] == '\n') return i + 1;
        }
        return -1;
    }

    static RequestHead parse(byte[] buf, int len) throws Malformed {
        String[] lines = new String(buf, 0, len, StandardCharsets.ISO_8859_1).split("\r?\n");
        int first = 0;
        while (first < lines.length && lines[first].isEmpty()) first++; // RFC 9112 2.2: ignore leading empty lines
        if (first == lines.length) throw new Malformed(400, "empty request");
        String[] parts = lines[first].split(" ", -1);
        if (parts.length != 3 || !token(parts[0]) || parts[1].isEmpty()) throw new Malformed(400, "bad request line");
        boolean http11 = switch (parts[2]) {
            case "HTTP/1.1" -> true;
            case "HTTP/1.0" -> false;
            default -> throw new Malformed(parts[2].matches("HTTP/\\d(\\.\\d)?") ? 505 : 400, "bad HTTP version");
        };
        Map<String, String> headers = new HashMap<>();
        for (int i = first + 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) break;
            int colon = line.indexOf(':');
            // No whitespace before the colon, no obsolete line folding (RFC 9112 5.1, 5.2).
            if (colon <= 0 || !token(line.substring(0, colon))) throw new Malformed(400, "bad header field");
            String name = line.substring(0, colon).toLowerCase(Locale.ROOT), value = line.substring(colon + 1).strip();
            headers.merge(name, value, (a, b) -> a + ", " + b);
        }
        return new RequestHead(parts[0], parts[1], http11, Map.copyOf(headers));
    }

    /** RFC 9110 token characters. */
    private static boolean token(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0)) return false;
        }
        return true;
    }

    String header(String lowerCaseName) { return headers.get(lowerCaseName); }

    /** The path of an origin-form ("/metrics?x") or absolute-form ("http://host/metrics") target; null for "*" and the like. */
    String path() {
        String t = target;
        if (t.startsWith("http://") || t.startsWith("https://")) {
            int slash = t.indexOf('/', t.indexOf("//") + 2);
            t = slash < 0 ? "/" : t.substring(slash);
        }
        if (!t.startsWith("/")) return null;
        int q = t.indexOf('?');
        return q < 0 ? t : t.substring(0, q);
    }

    /** The request has a body (which is never read, so the connection cannot carry another request). */
    boolean hasBody() {
        String length = header("content-length");
        return header("transfer-encoding") != null || length != null && !length.equals("0");
    }

    /** HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 connections are closed after one response. */
    boolean keepAlive() {
        String c = header("connection");
        return http11 && (c == null || !c.toLowerCase(Locale.ROOT).contains("close"));
    }
}
