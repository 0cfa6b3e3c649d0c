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
        int end = RequestHead.end(b, 0, b.length);
        assertTrue(end > 0, "complete head: " + head);
        return RequestHead.parse(b, end);
    }

    @Test
    void findsTheEndOfAHeadWithCrlfOrBareLf() {
        byte[] b = "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(27, RequestHead.end(b, 0, b.length));
        assertEquals(-1, RequestHead.end(b, 0, 26), "one byte short");
        byte[] lf = "GET / HTTP/1.1\nHost: x\n\n".getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(lf.length, RequestHead.end(lf, 0, lf.length));
        assertEquals(27, RequestHead.end(b, 24, b.length), "resuming a search near the end");
    }

    @Test
    void readsWhatRoutingNeeds() throws Exception {
        RequestHead h = parse("\r\nGET http://node:18613/metrics?x=1 HTTP/1.1\r\nAuthorization: Basic abc\r\naccept:  text/plain \r\n"
                + "X-A: 1\r\nx-a: 2\r\n\r\n");
        assertEquals("GET", h.method());
        assertEquals("/metrics", h.path());
        assertEquals("Basic abc", h.header("authorization"));
        assertEquals("text/plain", h.header("accept"));
        assertEquals("1, 2", h.header("x-a"));
        assertTrue(h.keepAlive());
        assertFalse(h.hasBody());
        assertNull(parse("OPTIONS * HTTP/1.1\r\n\r\n").path());
        assertFalse(parse("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").keepAlive());
        assertFalse(parse("GET / HTTP/1.0\r\n\r\n").keepAlive());
        assertTrue(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n").hasBody());
        assertTrue(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").hasBody());
    }

    @Test
    void refusesMalformedHeadsWithTheirStatus() {
        for (String bad : List.of("GET /\r\n\r\n", "GET  / HTTP/1.1\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
                "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "GET / SPDY/3\r\n\r\n"))
            assertEquals(400, assertThrows(RequestHead.Malformed.class, () -> parse(bad), bad).status, bad);
        assertEquals(505, assertThrows(RequestHead.Malformed.class, () -> parse("GET / HTTP/2.0\r\n\r\n")).status);
    }
}
