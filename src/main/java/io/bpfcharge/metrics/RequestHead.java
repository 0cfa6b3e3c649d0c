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

    /** The first byte of a TLS record carrying a handshake (a ClientHello, on this port). */
    private static final byte TLS_HANDSHAKE = 0x16;

    /**
     * Where the request line starts in {@code buf[0, len)}: past the empty lines (CRLF or LF) that
     * RFC 9112 2.2 lets a server ignore before it, which clients send after a body or out of habit.
     */
    static int start(byte[] buf, int len) {
        int i = 0;
        while (i < len && (buf[i] == '\n' || buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')) i += buf[i] == '\r' ? 2 : 1;
        return i;
    }

    /**
     * Checks what has arrived of the request line, {@code buf[start, len)}, before the head is
     * complete, so that what can never become a request is answered at once instead of at the head
     * deadline: a first byte that cannot begin a method (a TLS ClientHello, binary noise), and a
     * whole line that is not "method target HTTP/x.y" (an HTTP/0.9 request, which ends there).
     * The search for the line's end resumes at {@code from}.
     * @return true once the whole request line has arrived and is well formed
     */
    static boolean checkRequestLine(byte[] buf, int start, int from, int len) throws Malformed {
        if (start == len || buf[start] == '\r' && start + 1 == len) return false; // nothing yet, or maybe a CRLF
        if (buf[start] == TLS_HANDSHAKE)
            throw new Malformed(400, "this port speaks plain HTTP and a TLS handshake arrived: scrape it with http://,"
                    + " or give serve a --web-config with tls_server_config");
        if (!tchar((char) (buf[start] & 0xff))) throw new Malformed(400, "bad request line: want METHOD TARGET HTTP/1.1");
        for (int i = Math.max(start, from); i < len; i++)
            if (buf[i] == '\n') {
                int end = i > start && buf[i - 1] == '\r' ? i - 1 : i;
                requestLine(new String(buf, start, end - start, StandardCharsets.ISO_8859_1));
                return true;
            }
        return false;
    }

    /**
     * Where the head that starts at {@code start} ends in {@code buf[0, len)}: the index just past its
     * empty line (CRLF CRLF, or bare LF LF, which RFC 9112 lets a server accept), or -1 while it is
     * incomplete; the search resumes at {@code from}.
     */
    static int end(byte[] buf, int start, int from, int len) {
        for (int i = Math.max(start + 1, from); i < len; i++) {
            if (buf[i] != '\n') continue;
            if (buf[i - 1] == '\n') return i + 1;
            if (buf[i - 1] == '\r' && i - 2 >= start && buf[i - 2] == '\n') return i + 1;
        }
        return -1;
    }

    /** Parses {@code buf[start, end)}, a whole head as {@link #start} and {@link #end} found it. */
    static RequestHead parse(byte[] buf, int start, int end) throws Malformed {
        String[] lines = new String(buf, start, end - start, StandardCharsets.ISO_8859_1).split("\r?\n");
        String[] parts = requestLine(lines[0]);
        boolean http11 = parts[2].equals("HTTP/1.1");
        Map<String, String> headers = new HashMap<>();
        int hosts = 0;
        for (int i = 1; i < lines.length; i++) {
            String line = lines[i];
            if (line.isEmpty()) break;
            int colon = line.indexOf(':');
            // No whitespace before the colon, no obsolete line folding (RFC 9112 5.1, 5.2).
            if (colon <= 0 || !token(line.substring(0, colon))) throw new Malformed(400, "bad header field");
            String name = line.substring(0, colon).toLowerCase(Locale.ROOT), value = trim(line.substring(colon + 1));
            // NUL, a CR that ends no line and other controls: RFC 9110 5.5 says reject, as Go's server does.
            if (!visible(value, true)) throw new Malformed(400, "a control character in header field " + name);
            if (name.equals("host")) hosts++;
            headers.merge(name, value, (a, b) -> a + ", " + b);
        }
        // RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, and to any with more than one.
        if (hosts > 1 || hosts == 0 && http11) throw new Malformed(400, hosts == 0 ? "no Host header" : "more than one Host header");
        return new RequestHead(parts[0], parts[1], http11, Map.copyOf(headers));
    }

    /** Method, target and version of a request line (without its line end). */
    private static String[] requestLine(String line) throws Malformed {
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !token(parts[0]) || parts[1].isEmpty() || !visible(parts[1], false))
            throw new Malformed(400, "bad request line: want METHOD TARGET HTTP/1.1");
        return switch (parts[2]) {
            case "HTTP/1.1", "HTTP/1.0" -> parts;
            default -> throw new Malformed(parts[2].matches("HTTP/\\d(\\.\\d)?") ? 505 : 400, "bad HTTP version");
        };
    }

    /** RFC 9110 token characters. */
    private static boolean token(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) if (!tchar(s.charAt(i))) return false;
        return true;
    }

    private static boolean tchar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }

    /** No control characters (and, unless {@code spaces}, no space or tab either): field values, request targets. */
    private static boolean visible(String s, boolean spaces) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0x7f || c < 0x20 && !(spaces && c == '\t') || c == ' ' && !spaces) return false;
        }
        return true;
    }

    /** Without the optional white space (SP, HTAB) around a field value; String.strip would also take control characters. */
    private static String trim(String s) {
        int a = 0, b = s.length();
        while (a < b && (s.charAt(a) == ' ' || s.charAt(a) == '\t')) a++;
        while (b > a && (s.charAt(b - 1) == ' ' || s.charAt(b - 1) == '\t')) b--;
        return s.substring(a, b);
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

    /**
     * HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 only when it asks with
     * "Connection: keep-alive" (RFC 9112 9.3 and appendix C.2.2), and the answer then says so.
     */
    boolean keepAlive() {
        return http11 ? !connection("close") : connection("keep-alive") && !connection("close");
    }

    /** Whether the Connection header lists {@code option}. */
    private boolean connection(String option) {
        String c = header("connection");
        if (c == null) return false;
        for (String o : c.split(",")) if (o.strip().equalsIgnoreCase(option)) return true;
        return false;
    }
}
