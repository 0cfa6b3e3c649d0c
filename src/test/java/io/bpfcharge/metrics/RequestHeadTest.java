package io.bpfcharge.metrics;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RequestHeadTest {
    private static RequestHead parse(String head) throws RequestHead.Malformed {
        byte[] b = head.getBytes(StandardCharsets.ISO_8859_1);
        int start = RequestHead.start(b, b.length);
        assertTrue(RequestHead.checkRequestLine(b, start, start, b.length), "complete request line: " + head);
        int end = RequestHead.end(b, start, start, b.length);
        assertTrue(end > 0, "complete head: " + head);
        return RequestHead.parse(b, start, end);
    }

    /** What {@link RequestHead#checkRequestLine} says of a head's first bytes: false while it cannot tell yet. */
    private static boolean lineSoFar(String bytes) throws RequestHead.Malformed {
        byte[] b = bytes.getBytes(StandardCharsets.ISO_8859_1);
        int start = RequestHead.start(b, b.length);
        return RequestHead.checkRequestLine(b, start, start, b.length);
    }

    @Test
    void findsTheEndOfAHeadWithCrlfOrBareLf() {
        byte[] b = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(27, RequestHead.end(b, 0, 0, b.length));
        assertEquals(-1, RequestHead.end(b, 0, 0, 26), "one byte short");
        byte[] lf = "GET / HTTP/1.1\nHost: x\n\n".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(lf.length, RequestHead.end(lf, 0, 0, lf.length));
        assertEquals(27, RequestHead.end(b, 0, 24, b.length), "resuming a search near the end");
    }

    @Test
    void emptyLinesBeforeTheRequestLineAreSkipped() throws Exception {
        byte[] b = "\r\n\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(5, RequestHead.start(b, b.length));
        assertEquals(b.length, RequestHead.end(b, 5, 5, b.length), "the leading CRLF CRLF is not the head's end");
        assertEquals("/", parse("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n").path());
        assertFalse(lineSoFar("\r\n\r"), "a CR that a LF may still follow");
    }

    @Test
    void readsWhatRoutingNeeds() throws Exception {
        RequestHead h = parse("\r\nGET http://node:18613/metrics?x=1 HTTP/1.1\r\nHost: node\r\nAuthorization: Basic abc\r\n"
                + "accept:  text/plain \r\nX-A: 1\r\nx-a: 2\r\n\r\n");
        assertEquals("GET", h.method());
        assertEquals("/metrics", h.path());
        assertEquals("Basic abc", h.header("authorization"));
        assertEquals("text/plain", h.header("accept"));
        assertEquals("1, 2", h.header("x-a"));
        assertTrue(h.keepAlive());
        assertFalse(h.hasBody());
        assertNull(parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n").path());
        assertFalse(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n").keepAlive());
        assertTrue(parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n").hasBody());
        assertTrue(parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").hasBody());
    }

    @Test
    void http10KeepsTheConnectionOnlyWhenAsked() throws Exception {
        assertFalse(parse("GET / HTTP/1.0\r\n\r\n").keepAlive());
        assertTrue(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keepAlive());
        assertTrue(parse("GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n").keepAlive());
        assertFalse(parse("GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n").keepAlive());
        assertTrue(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: closer\r\n\r\n").keepAlive(), "a token, not a substring");
    }

    @Test
    void refusesMalformedHeadsWithTheirStatus() {
        for (String bad : List.of("GET  / HTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: x\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\nHost : x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n folded\r\n\r\n", "GET / SPDY/3\r\n\r\n",
                "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", "GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n",
                "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\r\n\r\n", "GET /\0 HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n"))
            assertEquals(400, assertThrows(RequestHead.Malformed.class, () -> parse(bad), bad).status, bad);
        assertEquals(505, assertThrows(RequestHead.Malformed.class, () -> parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n")).status);
    }

    @Test
    void aRequestLineThatCanNeverBeServedIsRefusedBeforeTheHeadEnds() throws Exception {
        assertFalse(lineSoFar("GET /metr"), "an incomplete line");
        assertTrue(lineSoFar("GET /metrics HTTP/1.1\r\nHost"));
        for (String bad : List.of("GET /metrics\r\n", "GET /metrics\n", "\u0016\u0003\u0001\u0002\u0000\u0001\u0000\u00fc\u0003\u0003", "\0GET", " GET", "\rX"))
            assertEquals(400, assertThrows(RequestHead.Malformed.class, () -> lineSoFar(bad), bad).status, bad);
        assertTrue(assertThrows(RequestHead.Malformed.class, () -> lineSoFar("\u0016\u0003\u0001")).getMessage().contains("TLS"));
    }
}
