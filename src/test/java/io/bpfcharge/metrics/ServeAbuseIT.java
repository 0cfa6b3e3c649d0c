package io.bpfcharge.metrics;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `bpfcharge serve` against hostile and careless clients, on real loopback sockets, with the systemd
 * unit's JVM settings (contrib/serve-jvm.args) so that its memory is what a node would see. Nothing
 * here depends on the kernel or cgroup version, so the VM stage leaves it out. What these floods cost
 * (RSS, a right scraper's p99 among wrong passwords) is measured by bench/serve-bench, not asserted here.
 */
@KernelTest
@HostOnly
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeAbuseIT {
    private static final int FLOOD = 3000;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Daemon daemon;
    /** A map of our own, so that a scrape has something to show on a node (or a CI machine) with no other map. */
    private MapFd probe;

    @BeforeAll
    void start() throws Exception {
        probe = MapFd.create(new MapInfo(0, MapType.HASH, "abuse_probe", 4, 8, 16, 0, 0, 0, 0, 0, 0, 0), null, null);
        // These cases test the global bounds with every client on one address: no cap per address here
        // (ServeGreedyClientIT tests that one).
        daemon = Daemon.asUnit(Map.of(), "--max-connections-per-source", "0");
    }

    @AfterAll
    void stop() throws Exception {
        if (daemon != null) daemon.close();
        if (probe != null) probe.close();
    }

    private HttpResponse<String> get(URI uri, Duration timeout, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(timeout);
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Socket connect(Daemon d) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(d.base.getHost(), d.base.getPort()), 5000);
        return s;
    }

    @Test
    void aConnectionFloodIsRefusedCheaplyAndTheExporterAnswersAfterIt() throws Exception {
        long fds = openFileLimit();
        assertTrue(fds >= FLOOD + 500, "this test holds " + FLOOD + " sockets but the open-file limit is " + fds
                + ": raise it (ulimit -n 8192)");
        Scrape before = Scrape.parse(get(daemon.uri("/metrics"), Duration.ofSeconds(5)).body());
        List<Socket> flood = new ArrayList<>();
        try {
            // Bounded in time: a daemon that stopped accepting fills its listen backlog, and connects then wait.
            long opening = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            for (int i = 0; i < FLOOD && System.nanoTime() < opening; i++) {
                Socket s = new Socket();
                flood.add(s);
                try {
                    s.connect(new InetSocketAddress(daemon.base.getHost(), daemon.base.getPort()), 3000); // one SYN retry
                } catch (IOException e) {
                    continue; // a full backlog: counted below
                }
                try {
                    s.getOutputStream().write('G'); // one byte of a request head, and then nothing
                } catch (IOException e) {
                    // refused past --max-connections: closed by the daemon already
                }
            }
            long connected = flood.stream().filter(Socket::isConnected).count();
            // Held past the head deadline, so that every accepted connection is cut while the rest are still open.
            Thread.sleep(Http1Server.HEAD_TIMEOUT.plusSeconds(10));
            assertTrue(daemon.alive(), "the daemon died under the flood");
            assertEquals(200, get(daemon.uri("/-/healthy"), Duration.ofSeconds(5)).statusCode());
            HttpResponse<String> scrape = get(daemon.uri("/metrics"), Duration.ofSeconds(5));
            assertEquals(200, scrape.statusCode());
            assertTrue(Scrape.parse(scrape.body()).value("bpfcharge_maps") >= 1, "the probe map is missing from the scrape");
            // A SYN can be dropped while the accept queue is momentarily full on a busy machine.
            assertTrue(connected >= FLOOD * 95 / 100, connected + " of " + FLOOD + " connections made");
            // The operator sees the flood: connections past the limit refused at accept, the others cut at the head deadline.
            Scrape now = Scrape.parse(scrape.body());
            long refused = dropped(now, "max_connections") - dropped(before, "max_connections");
            long cut = dropped(now, "head_deadline") - dropped(before, "head_deadline");
            System.out.printf("flood: dropped %d past --max-connections, %d at the head deadline%n", refused, cut);
            assertTrue(refused >= connected - 2L * MetricsServer.DEFAULT_MAX_CONNECTIONS, refused + " refused of " + connected);
            assertTrue(cut >= 1, "no connection counted as cut at the head deadline");
            assertTrue(refused + cut <= connected, "counted twice: " + refused + " + " + cut + " of " + connected);
        } finally {
            for (Socket s : flood) s.close();
        }
    }

    @Test
    void slowHeadsDoNotStopAScrapeAndAreCutAtTheDeadline() throws Exception {
        int clients = 200;
        // Trickled for 2.5 head deadlines: a daemon whose deadline each byte pushed back would cut none of them.
        Duration trickle = Http1Server.HEAD_TIMEOUT.multipliedBy(5).dividedBy(2);
        long dropsBefore = dropped(Scrape.parse(get(daemon.uri("/metrics"), Duration.ofSeconds(60)).body()), "head_deadline");
        List<Long> cutAfterMs = Collections.synchronizedList(new ArrayList<>());
        List<String> uncut = Collections.synchronizedList(new ArrayList<>());
        List<Thread> slow = new ArrayList<>();
        for (int i = 0; i < clients; i++) {
            Socket s = connect(daemon);
            long connected = System.nanoTime();
            slow.add(Thread.ofVirtual().start(() -> {
                try (s) {
                    OutputStream out = s.getOutputStream();
                    out.write("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII));
                    Thread trickler = Thread.ofVirtual().start(() -> {
                        try { // a byte every half second: always active, never done
                            while (System.nanoTime() - connected < trickle.toNanos()) {
                                out.write('a');
                                Thread.sleep(500);
                            }
                        } catch (IOException | InterruptedException e) {
                            // cut, or told to stop: the read below tells which
                        }
                    });
                    // The cut as the daemon sends it (its FIN, or a reset), not inferred from a write failing in time.
                    s.setSoTimeout((int) trickle.toMillis());
                    String seen;
                    try {
                        seen = s.getInputStream().read() < 0 ? "FIN" : "a response byte";
                    } catch (java.net.SocketTimeoutException e) {
                        seen = "nothing";
                    } catch (IOException e) {
                        seen = "FIN"; // a reset: the daemon closed it with bytes of ours unread
                    }
                    long ms = (System.nanoTime() - connected) / 1_000_000;
                    if (seen.equals("FIN")) cutAfterMs.add(ms);
                    else uncut.add("port " + s.getLocalPort() + ": " + seen + " after " + ms + " ms");
                    trickler.interrupt();
                    trickler.join();
                } catch (IOException e) {
                    uncut.add("port " + s.getLocalPort() + ": " + e); // the head's first bytes could not be sent
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
        }
        Thread.sleep(1000);
        long t = System.nanoTime();
        HttpResponse<String> scrape = get(daemon.uri("/metrics"), Duration.ofSeconds(60));
        assertEquals(200, scrape.statusCode(), "a scrape among " + clients + " slow clients");
        long scrapeMs = (System.nanoTime() - t) / 1_000_000;
        for (Thread th : slow) {
            th.join(trickle.plusSeconds(60));
            assertFalse(th.isAlive(), "a slow client's thread did not end: " + th);
        }
        System.out.printf("slow heads: %d clients; scrape among them %d ms; cut %d-%d ms after connecting (head deadline %d s)%n", clients,
                scrapeMs, cutAfterMs.stream().mapToLong(x -> x).min().orElse(-1), cutAfterMs.stream().mapToLong(x -> x).max().orElse(-1),
                Http1Server.HEAD_TIMEOUT.toSeconds());
        assertEquals(List.of(), uncut, "slow clients not cut while they trickled");
        assertEquals(clients, cutAfterMs.size());
        // The daemon accepts after the client's connect returns, so no cut can come sooner than this.
        assertTrue(cutAfterMs.stream().allMatch(ms -> ms >= Http1Server.HEAD_TIMEOUT.toMillis()), "cut before the deadline: " + cutAfterMs);
        long drops = dropped(Scrape.parse(get(daemon.uri("/metrics"), Duration.ofSeconds(60)).body()), "head_deadline") - dropsBefore;
        assertEquals(clients, drops, "cuts counted as head_deadline drops");
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAtTheIdleDeadlineAndCounted() throws Exception {
        double before = dropped(Scrape.parse(get(daemon.uri("/metrics"), Duration.ofSeconds(5)).body()), "idle_deadline");
        try (Socket s = connect(daemon)) {
            s.setSoTimeout((int) Http1Server.IDLE_TIMEOUT.plusSeconds(30).toMillis());
            s.getOutputStream().write("GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200 OK") && !head.contains("Connection: close"), head);
            in.readNBytes(Integer.parseInt(head.replaceAll("(?s).*Content-Length: (\\d+).*", "$1")));
            long t = System.nanoTime();
            assertEquals(-1, in.read(), "a byte on an idle connection");
            long ms = (System.nanoTime() - t) / 1_000_000;
            System.out.printf("idle: keep-alive connection closed after %d ms idle (deadline %d s)%n", ms, Http1Server.IDLE_TIMEOUT.toSeconds());
            assertTrue(ms >= Http1Server.IDLE_TIMEOUT.toMillis() - 1000 && ms < Http1Server.IDLE_TIMEOUT.toMillis() + 2500,
                    "closed after " + ms + " ms idle");
        }
        double after = dropped(Scrape.parse(get(daemon.uri("/metrics"), Duration.ofSeconds(5)).body()), "idle_deadline");
        assertTrue(after - before >= 1, "idle connections cut: " + (after - before));
    }

    /** The response head, up to and without its blank line. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; !b.toString().endsWith("\r\n\r\n"); b.append((char) c))
            if ((c = in.read()) < 0) throw new IOException("closed in the response head: " + b);
        return b.substring(0, b.length() - 4);
    }

    private static long dropped(Scrape s, String reason) {
        return (long) s.value("bpfcharge_http_connections_dropped_total", "reason", reason);
    }

    @Test
    void optionsStarIs405AndAOneMegabyteHeadIs431() throws Exception {
        assertEquals("HTTP/1.1 405 Method Not Allowed", exchange("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
        assertEquals("HTTP/1.1 431 Request Header Fields Too Large",
                exchange("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(1 << 20) + "\r\n\r\n"));
        assertEquals("HTTP/1.1 400 Bad Request", exchange("GET /metrics\r\n\r\n"));
        assertEquals(200, get(daemon.uri("/-/healthy"), Duration.ofSeconds(5)).statusCode());
    }

    /** Sends a raw request (from another thread: the daemon answers before it has read all of a large one) and returns the status line. */
    private String exchange(String request) throws Exception {
        try (Socket s = connect(daemon)) {
            s.setSoTimeout(10_000);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    s.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    // the daemon may close before taking it all
                }
            });
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            for (int c; (c = in.read()) >= 0 && c != '\r'; ) line.append((char) c);
            writer.join(10_000);
            return line.toString();
        }
    }

    @Test
    void aFloodOfWrongPasswordsDoesNotLockOutAScraperWithTheRightOne(@TempDir Path dir) throws Exception {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(10, "scrape-me".toCharArray()); // htpasswd -B's cost
        Path web = Files.writeString(dir.resolve("web.yml"), "basic_auth_users:\n  prometheus: " + hash + "\n");
        try (Daemon auth = Daemon.asUnit(Map.of(), "--web-config", web.toString())) {
            URI metrics = auth.uri("/metrics");
            String right = basic("prometheus", "scrape-me");
            assertEquals(200, get(metrics, Duration.ofSeconds(10), "Authorization", right).statusCode());
            long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            AtomicLong guesses = new AtomicLong(), denied = new AtomicLong(), busy = new AtomicLong(), admitted = new AtomicLong();
            List<Thread> attackers = new ArrayList<>();
            for (int i = 0; i < 50; i++) attackers.add(Thread.ofVirtual().start(() -> {
                HttpClient own = HttpClient.newHttpClient();
                while (System.nanoTime() < end) {
                    try {
                        // A new guess every time: no cache can answer it, only bcrypt.
                        int status = own.send(HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10))
                                .header("Authorization", basic("prometheus", "guess-" + guesses.incrementAndGet())).build(),
                                HttpResponse.BodyHandlers.discarding()).statusCode();
                        (switch (status) {
                            case 401 -> denied;
                            case 503 -> busy;
                            default -> admitted;
                        }).incrementAndGet();
                    } catch (IOException e) {
                        busy.incrementAndGet();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }));
            int scrapes = 0;
            // The right scraper is answered every time, however busy bcrypt is with the guesses (how fast: bench/serve-bench).
            for (; System.nanoTime() < end; scrapes++) {
                assertEquals(200, get(metrics, Duration.ofSeconds(30), "Authorization", right).statusCode(), "scrape " + scrapes);
                Thread.sleep(100);
            }
            for (Thread a : attackers) a.join(Duration.ofSeconds(30));
            System.out.printf("wrong passwords: 50 clients x 20 s, %d guesses (%d answered 401, %d 503 or dropped); right scraper: %d scrapes%n",
                    guesses.get(), denied.get(), busy.get(), scrapes);
            assertEquals(0, admitted.get(), "wrong passwords answered neither 401 nor 503");
        }
    }

    @Test
    void aKeyThatIsNotTheCertificatesAndAMissingWebConfigAreRefusedAtStart(@TempDir Path dir) throws Exception {
        WebConfigTest.openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=a", "-keyout", "a.key", "-out", "a.pem");
        WebConfigTest.openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=b", "-keyout", "b.key", "-out", "b.pem");
        Path web = Files.writeString(dir.resolve("web.yml"), "tls_server_config:\n  cert_file: a.pem\n  key_file: b.key\n");
        Cli.Result r = runBriefly("serve", "--listen", "127.0.0.1:0", "--web-config", web.toString());
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("is not the private key of cert_file"), r.err());
        r = runBriefly("serve", "--listen", "127.0.0.1:0", "--web-config", dir.resolve("absent.yml").toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().strip().endsWith("absent.yml: no such file"), r.err());
    }

    /** Runs the CLI, failing (not hanging) when it does not exit within 60 s: a daemon that accepted bad input serves on. */
    private static Cli.Result runBriefly(String... args) throws Exception {
        Process p = new ProcessBuilder(Cli.command(args)).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (InputStream in = p.getErrorStream()) {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        if (!p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("still running after 60 s, so it accepted " + String.join(" ", args) + ": " + err.join());
        }
        return new Cli.Result(p.exitValue(), "", err.join());
    }

    private static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static long openFileLimit() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/limits")))
            if (l.startsWith("Max open files")) return Long.parseLong(l.substring("Max open files".length()).trim().split("\\s+")[0]);
        return Long.MAX_VALUE;
    }
}
