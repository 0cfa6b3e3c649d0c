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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An Error while serving ends the process with exit 1 and one line, instead of leaving a live process
 * that serves nothing. Runs the server in a child JVM whose handler throws (halting is the point).
 */
class Http1ServerErrorTest {
    /** The child: serves on a free loopback port, prints it, and throws StackOverflowError for /boom. */
    public static void main(String[] args) throws Exception {
        Http1Server s = Http1Server.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), null, 4, 0, head -> {
            if (head.path().equals("/boom")) throw new StackOverflowError("test");
            return Http1Server.Response.text(200, "ok\n");
        }, dropped -> { });
        System.out.println(s.address().getPort());
        System.out.flush();
        Thread.sleep(60_000);
    }

    @Test
    void anErrorInAHandlerEndsTheProcessWithExit1() throws Exception {
        Process p = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Http1ServerErrorTest.class.getName())).start();
        try {
            int port = Integer.parseInt(new BufferedReader(new InputStreamReader(p.getInputStream())).readLine().strip());
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

    private static String request(int port, String path) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            String line = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.ISO_8859_1)).readLine();
            return line == null ? "" : line;
        }
    }
}
