package io.bpfcharge.metrics;

import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What Prometheus, curl and proxies expect of the exporter's HTTP, against the daemon from the built
 * jar: gzip and format negotiation with q-values, malformed requests answered at once rather than
 * held to the head deadline, HTTP/1.0 keep-alive, and the start-up line for an IPv6 address.
 */
@KernelTest
@HostOnly // HTTP handling: the same on every kernel and cgroup version
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeProtocolIT {
    private static final String GET_METRICS = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
    private Daemon daemon;

    @BeforeAll
    void start() throws Exception { daemon = new Daemon(Map.of()); }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    private RawHttp connect() throws IOException { return new RawHttp(daemon.base); }

    @Test
    void curlCompressedGetsAGzippedPage(@TempDir Path dir) throws Exception {
        Path headers = dir.resolve("headers"), body = dir.resolve("body");
        curl("--compressed", "-D", headers.toString(), "-o", body.toString(), daemon.uri("/metrics").toString());
        String h = Files.readString(headers);
        assertTrue(h.startsWith("HTTP/1.1 200 OK\r\n"), h);
        assertTrue(h.contains("\r\nContent-Encoding: gzip\r\n"), h);
        assertTrue(h.contains("\r\nVary: Accept-Encoding\r\n"), h);
        assertTrue(h.contains("\r\nContent-Type: text/plain; version=0.0.4"), h);
        assertTrue(Scrape.parse(Files.readString(body)).find("bpfcharge_build_info").isPresent(), "curl could not gunzip the page");
    }

    @Test
    void gzipIsNegotiatedWithQValuesAndStreamedInChunks() throws Exception {
        try (RawHttp c = connect()) {
            RawHttp.Answer gz = c.exchange(GET_METRICS + "Accept-Encoding: deflate, gzip;q=0.5\r\n\r\n");
            assertEquals("HTTP/1.1 200 OK", gz.status());
            assertEquals("gzip", gz.header("Content-Encoding"));
            assertEquals("chunked", gz.header("Transfer-Encoding"));
            assertNull(gz.header("Content-Length"));
            assertTrue(gz.all("Vary").containsAll(List.of("Accept-Encoding", "Accept")), gz.headers().toString());
            assertTrue(Scrape.parse(gz.text()).find("bpfcharge_build_info").isPresent());
            // The connection carries on after the last chunk, and a HEAD says what a GET would get, without a body.
            RawHttp.Answer head = c.exchange("HEAD /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
            assertEquals("gzip", head.header("Content-Encoding"));
            assertEquals("HTTP/1.1 200 OK", c.exchange("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n").status());
            for (String refused : List.of("gzip;q=0", "gzip;q=0, *", "*;q=0", "identity", "br")) {
                RawHttp.Answer plain = c.exchange(GET_METRICS + "Accept-Encoding: " + refused + "\r\n\r\n");
                assertNull(plain.header("Content-Encoding"), refused);
                assertTrue(Scrape.parse(plain.text()).find("bpfcharge_build_info").isPresent(), refused);
            }
        }
        try (RawHttp c = connect()) { // no chunked coding in HTTP/1.0, so no gzip either: a body of known length
            RawHttp.Answer old = c.exchange("GET /metrics HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n");
            assertNull(old.header("Content-Encoding"));
            assertEquals(old.body().length, Integer.parseInt(old.header("Content-Length")));
        }
    }

    @Test
    void acceptQValuesPickTheFormat() throws Exception {
        try (RawHttp c = connect()) {
            for (String accept : List.of("application/openmetrics-text;q=0, text/plain", "application/openmetrics-text;q=0.1, text/plain;q=0.2",
                    "text/plain", "*/*", "application/json"))
                assertTrue(c.exchange(GET_METRICS + "Accept: " + accept + "\r\n\r\n").header("Content-Type").startsWith("text/plain; version=0.0.4"),
                        accept);
            for (String accept : List.of("text/plain;q=0.2, application/openmetrics-text;q=0.9", "text/plain;q=0, */*",
                    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.2,*/*;q=0.1")) {
                RawHttp.Answer om = c.exchange(GET_METRICS + "Accept: " + accept + "\r\n\r\n");
                assertTrue(om.header("Content-Type").startsWith("application/openmetrics-text; version=1.0.0"), accept);
                assertTrue(om.text().endsWith("# EOF\n"), accept);
            }
        }
        String curled = curl("-D", "-", "-o", "/dev/null", "-H", "Accept: application/openmetrics-text;q=0, text/plain", daemon.uri("/metrics").toString());
        assertTrue(curled.contains("\r\nContent-Type: text/plain; version=0.0.4"), curled);
    }

    @Test
    void malformedRequestsAreAnsweredAtOnce() throws Exception {
        List<byte[]> bad = new ArrayList<>();
        for (String s : List.of("GET /metrics HTTP/1.1\r\n\r\n", // no Host
                "GET /metrics HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                "GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
                "GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n",
                "GET /metrics\r\n")) // HTTP/0.9: the request ends with its line, no empty line follows
            bad.add(s.getBytes(StandardCharsets.ISO_8859_1));
        bad.add(clientHello());
        double before = errors("bad_request");
        for (byte[] request : bad)
            try (RawHttp c = connect()) {
                // Held, these would be cut at the 10 s head deadline with no answer at all.
                RawHttp.Answer a = c.send(request).read(false);
                assertEquals("HTTP/1.1 400 Bad Request", a.status(), new String(request, StandardCharsets.ISO_8859_1));
                assertEquals("close", a.header("Connection"));
            }
        assertEquals(bad.size(), errors("bad_request") - before, "bpfcharge_http_errors_total{reason=\"bad_request\"}");
        try (RawHttp c = connect()) {
            assertTrue(c.send(clientHello()).read(false).text().contains("plain HTTP"), "the 400 says why");
        }
        try (RawHttp c = connect()) { // RFC 9112 2.2: empty lines before a request line are ignored
            assertEquals("HTTP/1.1 200 OK", c.exchange("\r\n\r\n\n\r\nGET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n").status());
        }
    }

    /** A ClientHello as a TLS client sends it first, made by the JDK's own TLS engine. */
    private static byte[] clientHello() throws Exception {
        SSLEngine engine = SSLContext.getDefault().createSSLEngine("localhost", 443);
        engine.setUseClientMode(true);
        ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
        engine.wrap(ByteBuffer.allocate(0), out);
        return Arrays.copyOf(out.array(), out.position());
    }

    private double errors(String reason) throws Exception {
        try (RawHttp c = connect()) {
            return Scrape.parse(c.exchange(GET_METRICS + "\r\n").text()).value("bpfcharge_http_errors_total", "reason", reason);
        }
    }

    @Test
    void http10KeepAliveIsHonouredAndWithoutItTheConnectionCloses() throws Exception {
        try (RawHttp c = connect()) {
            RawHttp.Answer first = c.exchange("GET /-/healthy HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
            assertEquals("HTTP/1.1 200 OK", first.status());
            assertEquals("keep-alive", first.header("Connection"));
            assertEquals("HTTP/1.1 200 OK", c.exchange("GET /-/ready HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").status(),
                    "a second request on the kept connection");
            RawHttp.Answer last = c.exchange("GET /-/healthy HTTP/1.0\r\n\r\n");
            assertEquals("HTTP/1.1 200 OK", last.status());
            assertEquals("close", last.header("Connection"));
            assertTrue(c.closedByServer(), "an HTTP/1.0 request without keep-alive leaves the connection open");
        }
    }

    @Test
    void anIpv6ListenAddressIsPrintedAsAUrl() throws Exception {
        try (Daemon v6 = new Daemon(Map.of(), "--listen", "[::1]:0")) {
            assertEquals("[::1]", v6.base.getHost(), v6.base.toString());
            String answer = curl("-g", v6.uri("/-/healthy").toString());
            assertEquals("Healthy\n", answer);
        }
    }

    /** curl's stdout; fails on an HTTP error or when curl does (-f). */
    private static String curl(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sSf", "--max-time", "30"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "curl did not end");
        assertEquals(0, p.exitValue(), String.join(" ", cmd) + ": " + out);
        return out;
    }
}
