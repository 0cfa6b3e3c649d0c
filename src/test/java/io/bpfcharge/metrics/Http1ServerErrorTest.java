package io.bpfcharge.metrics;

import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What the server does when its handler fails, on real sockets, in a child JVM (halting is the point
 * of one case, and the other reads the child's whole stderr): a RuntimeException is a bug answered
 * 500, logged once per exception class and counted; an Error ends the process with exit 1 and one line.
 */
class Http1ServerErrorTest {
    /** The child: serves on a free loopback port and prints it, until its stdin closes; /bug throws a RuntimeException, /boom an Error, /errors counts 500s. */
    public static void main(String[] args) throws Exception {
        AtomicInteger internalErrors = new AtomicInteger();
        Http1Server.Events events = new Http1Server.Events() {
            @Override
            public void dropped(Http1Server.Drop why) { }

            @Override
            public void failed(Http1Server.Failure why) {
                if (why == Http1Server.Failure.INTERNAL_ERROR) internalErrors.incrementAndGet();
            }
        };
        Http1Server s = Http1Server.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, 4, 0, head -> switch (head.path()) {
            case "/boom" -> throw new StackOverflowError("test");
            case "/bug" -> throw new IllegalStateException("test bug");
            case "/errors" -> Response.text(200, internalErrors + "\n");
            default -> Response.text(200, "ok\n");
        }, events);
        System.out.println(s.address().getPort());
        System.out.flush();
        System.in.read(); // until the test closes our stdin (or dies)
        System.exit(0);
    }

    private static Process child() throws Exception {
        return new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Http1ServerErrorTest.class.getName())).start();
    }

    private static int port(Process p) throws Exception {
        return Integer.parseInt(new BufferedReader(new InputStreamReader(p.getInputStream())).readLine().strip());
    }

    @Test
    void aRuntimeExceptionInAHandlerIsAnswered500LoggedOnceAndCounted() throws Exception {
        Process p = child();
        try {
            int port = port(p);
            assertEquals("HTTP/1.1 500 Internal Server Error", request(port, "/bug"));
            assertEquals("HTTP/1.1 500 Internal Server Error", request(port, "/bug"));
            assertEquals("HTTP/1.1 200 OK", request(port, "/fine"), "serving on after a bug");
            assertEquals("2", body(port, "/errors"));
            p.getOutputStream().close();
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "the child did not end with its stdin");
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(1, err.strip().lines().count(), "one line for two of a kind:\n" + err);
            assertTrue(err.startsWith("bpfcharge: serve: bug: java.lang.IllegalStateException: test bug at "), err);
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void anErrorInAHandlerEndsTheProcessWithExit1() throws Exception {
        Process p = child();
        try {
            int port = port(p);
            assertEquals("HTTP/1.1 200 OK", request(port, "/fine"), "served before the Error");
            request(port, "/boom");
            assertTrue(p.waitFor(10, TimeUnit.SECONDS), "the process lives on after an Error");
            assertEquals(1, p.exitValue());
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(err.startsWith("bpfcharge: serve: java.lang.StackOverflowError: test in thread "), err);
            assertEquals(1, err.strip().lines().count(), err);
        } finally {
            p.destroyForcibly();
        }
    }

    /** The status line of the answer to GET {@code path} ("" when the connection closed without one). */
    private static String request(int port, String path) throws Exception {
        return exchange(port, path).lines().findFirst().orElse("");
    }

    private static String body(int port, String path) throws Exception {
        String answer = exchange(port, path);
        return answer.substring(answer.indexOf("\r\n\r\n") + 4).strip();
    }

    private static String exchange(int port, String path) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
