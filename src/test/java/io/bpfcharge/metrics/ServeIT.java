package io.bpfcharge.metrics;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.HostTools;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import io.bpfcharge.testing.TimeScale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon from the built jar against the real kernel: maps made in test memcgs, scraped over
 * HTTP, every value checked against `bpfcharge maps --json` and the cgroup files.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private Path runDir;
    private TestCgroups cg;
    private String idleCg, liveCg;
    private MapMaker.Maps idle, live;
    private Daemon daemon;

    @BeforeAll
    void start() throws Exception {
        runDir = Files.createTempDirectory("bpfcharge-serve-it");
        cg = new TestCgroups();
        idleCg = cg.child("idle");
        liveCg = cg.child("live");
        // idle: the maker exits, pins keep the maps, so the cgroup is empty: stranded, reason "empty".
        idle = MapMaker.run(cg, idleCg, false, spec("hash", 8, 64, 20_000, "srv_hash").pin(cg.pin("hash")),
                spec("array", 4, 256, 1024, "srv_array").pin(cg.pin("array")));
        live = MapMaker.run(cg, liveCg, true, spec("lru_hash", 8, 8, 5000, "srv_held"));
        Files.writeString(runDir.resolve("migrations.jsonl"), journalLine("migrated", 4096) + journalLine("migrated", 1000)
                + journalLine("refused", 0) + journalLine("rolled_back", 777));
        daemon = new Daemon(Map.of("BPFCHARGE_RUN_DIR", runDir.toString()), "--max-scan-age", "0", "--max-map-series", "0");
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (daemon != null) daemon.close();
            if (live != null) live.close();
        } finally {
            if (cg != null) cg.close();
            if (runDir != null) {
                Files.deleteIfExists(runDir.resolve("migrations.jsonl"));
                Files.deleteIfExists(runDir);
            }
        }
    }

    static String journalLine(String result, long bytes) {
        return "{\"time\":\"2025-06-01T12:00:00Z\",\"result\":\"" + result + "\",\"old_map_id\":7,\"new_map_id\":8,\"bytes\":"
                + bytes + ",\"from\":\"/a\",\"to\":\"/b\"}\n";
    }

    private HttpResponse<String> get(URI uri, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60));
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private Scrape scrape() throws IOException, InterruptedException {
        HttpResponse<String> r = get(daemon.uri("/metrics"));
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        return Scrape.parse(r.body());
    }

    private static Map<Integer, JsonNode> mapsJson() throws Exception {
        Cli.Result r = Cli.run("maps", "--json");
        assertEquals(0, r.exit(), r.err());
        Map<Integer, JsonNode> byId = new HashMap<>();
        for (JsonNode n : JSON.readTree(r.out())) byId.put(n.get("id").asInt(), n);
        return byId;
    }

    @Test
    void everyValueMatchesMapsJsonAndTheCgroupFiles() throws Exception {
        Scrape s = scrape();
        Map<Integer, JsonNode> json = mapsJson();
        long idleSum = 0;
        List<Integer> ours = new ArrayList<>(idle.ids());
        ours.addAll(live.ids());
        for (int id : ours) {
            JsonNode m = json.get(id);
            Scrape.Sample p = s.find("bpfcharge_map_memory_bytes", "map_id", Integer.toString(id)).orElseThrow(
                    () -> new AssertionError("no series for map " + id));
            assertEquals(m.get("bytes").asLong(), (long) p.value(), "bytes of map " + id);
            assertEquals(m.get("name").asText(), p.labels().get("map_name"));
            assertEquals(m.get("type").asText(), p.labels().get("map_type"));
            assertEquals(m.get("memcg").get("path").asText(), p.labels().get("cgroup"));
            assertEquals(Boolean.toString(!m.get("pins").isEmpty()), p.labels().get("pinned"));
            if (idle.ids().contains(id)) idleSum += m.get("bytes").asLong();
        }
        assertEquals(idleCg, s.find("bpfcharge_map_memory_bytes", "map_id", "" + idle.id(0)).orElseThrow().labels().get("cgroup"));
        assertEquals(liveCg, s.find("bpfcharge_map_memory_bytes", "map_id", "" + live.id(0)).orElseThrow().labels().get("cgroup"));

        assertEquals(idleSum, (long) s.value("bpfcharge_cgroup_bpf_memory_bytes", "cgroup", idleCg));
        assertEquals(2, (long) s.value("bpfcharge_cgroup_bpf_maps", "cgroup", idleCg));
        assertEquals(idleSum, (long) s.value("bpfcharge_cgroup_stranded_bpf_memory_bytes", "cgroup", idleCg, "reason", "empty"));
        assertTrue(s.find("bpfcharge_cgroup_stranded_bpf_memory_bytes", "cgroup", liveCg).isEmpty(), "a populated cgroup is not stranded");
        long liveBpf = json.get(live.id(0)).get("bytes").asLong();
        assertEquals(liveBpf, (long) s.value("bpfcharge_cgroup_bpf_memory_bytes", "cgroup", liveCg));

        // Usage as the cgroup file says; the empty cgroup's usage holds still but for what the kernel uncharges late
        // (per-CPU charge stocks of up to 64 pages a CPU, slab freed after RCU), so it must match within 1 MiB.
        long idleUsage = cg.usage(idleCg);
        assertEquals(idleUsage, s.value("bpfcharge_cgroup_memory_usage_bytes", "cgroup", idleCg), 1 << 20);
        assertTrue(s.value("bpfcharge_cgroup_memory_usage_bytes", "cgroup", idleCg) >= idleSum, "usage includes the BPF charge");
        assertTrue(s.value("bpfcharge_cgroup_memory_usage_bytes", "cgroup", liveCg) >= liveBpf);

        // One scan per scrape: the map count, the map series and the cgroup sums agree with each other.
        List<Scrape.Sample> mapSeries = s.all("bpfcharge_map_memory_bytes");
        assertEquals(mapSeries.size(), (long) s.value("bpfcharge_maps"));
        for (Scrape.Sample c : s.all("bpfcharge_cgroup_bpf_memory_bytes")) {
            double sum = mapSeries.stream().filter(m -> m.labels().get("cgroup").equals(c.labels().get("cgroup")))
                    .mapToDouble(Scrape.Sample::value).sum();
            assertEquals(c.value(), sum, "cgroup " + c.labels().get("cgroup"));
        }

        Scrape.Sample build = s.find("bpfcharge_build_info").orElseThrow();
        assertEquals(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim(), build.labels().get("kernel"));
        assertEquals(cg.hierarchy().mode().toString(), build.labels().get("cgroup_mode"));
        assertTrue(s.value("bpfcharge_scan_duration_seconds") > 0);

        assertEquals(2, (long) s.value("bpfcharge_migrations_total", "result", "migrated"));
        assertEquals(1, (long) s.value("bpfcharge_migrations_total", "result", "refused"));
        assertEquals(1, (long) s.value("bpfcharge_migrations_total", "result", "rolled_back"));
        assertEquals(0, (long) s.value("bpfcharge_migrations_total", "result", "failed"));
        assertEquals(5096, (long) s.value("bpfcharge_migrated_bytes_total"));
        Files.writeString(runDir.resolve("migrations.jsonl"), journalLine("migrated", 4), java.nio.file.StandardOpenOption.APPEND);
        Scrape after = scrape();
        assertEquals(3, (long) after.value("bpfcharge_migrations_total", "result", "migrated"), "new journal lines count at the next scrape");
        assertEquals(5100, (long) after.value("bpfcharge_migrated_bytes_total"));
    }

    /** One node_info series, with the node as its tools name it, and the node's memory as its own gauge. */
    @Test
    void theNodeIsNamedAsItsToolsNameIt() throws Exception {
        HostTools.Facts tools = HostTools.read();
        Scrape s = scrape();
        List<Scrape.Sample> info = s.all("bpfcharge_node_info");
        assertEquals(1, info.size(), info.toString());
        assertEquals(Map.of("os", tools.os(), "kernel", tools.kernel(), "cpus", Integer.toString(tools.cpus())), info.getFirst().labels());
        assertEquals(1, info.getFirst().value());
        assertEquals(tools.memoryBytes(), (long) s.value("bpfcharge_node_memory_bytes"));
    }

    @Test
    void seriesOfRemovedMapsAndCgroupsGoAtTheNextScrape() throws Exception {
        int array = idle.id(1);
        double before = scrape().value("bpfcharge_cgroup_bpf_memory_bytes", "cgroup", idleCg);
        double arrayBytes = scrape().value("bpfcharge_map_memory_bytes", "map_id", "" + array);
        Files.delete(cg.pin("array")); // last reference: the map is freed
        Scrape s = waitFor(x -> x.find("bpfcharge_map_memory_bytes", "map_id", "" + array).isEmpty());
        assertEquals(before - arrayBytes, s.value("bpfcharge_cgroup_bpf_memory_bytes", "cgroup", idleCg));
        assertEquals(1, (long) s.value("bpfcharge_cgroup_bpf_maps", "cgroup", idleCg));

        live.close(); // the holder exits: its unpinned map is freed, the cgroup holds no BPF charge any more
        s = waitFor(x -> x.find("bpfcharge_map_memory_bytes", "map_id", "" + live.id(0)).isEmpty());
        for (Scrape.Sample x : s.samples())
            assertFalse(liveCg.equals(x.labels().get("cgroup")), "series left for " + liveCg + ": " + x);
    }

    private Scrape waitFor(java.util.function.Predicate<Scrape> done) throws Exception {
        Duration bound = TimeScale.of(Duration.ofSeconds(10));
        long deadline = System.nanoTime() + bound.toNanos();
        while (true) {
            Scrape s = scrape();
            if (done.test(s)) return s;
            if (System.nanoTime() > deadline) throw new AssertionError("condition not reached within " + bound.toSeconds() + " s");
            Thread.sleep(100); // the kernel frees the map id right away; allow for a scan in flight
        }
    }

    @Test
    void openMetricsOnRequestAndReadOnlyEndpoints() throws Exception {
        HttpResponse<String> om = get(daemon.uri("/metrics"), "Accept",
                "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        assertEquals(200, om.statusCode());
        assertTrue(om.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"));
        assertTrue(om.body().endsWith("# EOF\n"));
        assertTrue(om.body().contains("# TYPE bpfcharge_migrations counter"));

        assertEquals(200, get(daemon.uri("/-/healthy")).statusCode());
        assertEquals(200, get(daemon.uri("/-/ready")).statusCode());
        HttpResponse<String> landing = get(daemon.uri("/"));
        assertEquals(200, landing.statusCode());
        assertTrue(landing.body().contains("href=\"metrics\""));
        assertEquals(404, get(daemon.uri("/nothing")).statusCode());
        for (String method : List.of("POST", "PUT", "DELETE")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(daemon.uri("/metrics"))
                    .method(method, HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(405, r.statusCode(), method);
        }
    }

    @Test
    @HostOnly // TLS and basic auth in front of the same scrape as the tests above
    void tlsAndBasicAuthFromAPrometheusWebConfig(@TempDir Path dir) throws Exception {
        WebConfigTest.openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "key.pem", "-out", "cert.pem");
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(6, "scrape-me".toCharArray());
        Path web = Files.writeString(dir.resolve("web.yml"),
                "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  prometheus: " + hash + "\n");
        try (Daemon tls = new Daemon(Map.of(), "--web-config", web.toString())) {
            assertEquals("https", tls.base.getScheme());
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("self", CertificateFactory.getInstance("X.509")
                    .generateCertificate(Files.newInputStream(dir.resolve("cert.pem"))));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            HttpClient https = HttpClient.newBuilder().sslContext(ctx).connectTimeout(Duration.ofSeconds(10)).build();
            URI metrics = tls.uri("/metrics");
            assertEquals(401, https.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, https.send(HttpRequest.newBuilder(metrics).header("Authorization", auth("prometheus", "wrong")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode());
            HttpResponse<String> ok = https.send(HttpRequest.newBuilder(metrics).header("Authorization", auth("prometheus", "scrape-me")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            assertTrue(Scrape.parse(ok.body()).value("bpfcharge_maps") > 0);
            // openssl's R asks for a renegotiation (TLS 1.2). Accepted, the request after it is answered and s_client
            // waits for more input; refused, the server ends the connection with a handshake_failure alert and s_client
            // exits. Its stdin stays open: at EOF it would quit before either could show.
            Path sOut = dir.resolve("s_client.out");
            Process s = new ProcessBuilder("openssl", "s_client", "-connect", metrics.getAuthority(), "-tls1_2")
                    .redirectErrorStream(true).redirectOutput(sOut.toFile()).start();
            var in = s.outputWriter();
            try {
                for (long end = System.nanoTime() + 10_000_000_000L; !Files.readString(sOut).contains("---\n")
                        && System.nanoTime() < end; ) Thread.sleep(50); // connected: s_client reads commands now
                in.write("R\n");
                in.flush();
                Thread.sleep(1000); // s_client reads its next line only after the renegotiation's outcome
                in.write("GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                in.flush();
            } catch (IOException e) {
                // s_client already ended: the server closed the connection at the renegotiation
            }
            boolean ended = s.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            s.destroyForcibly().waitFor();
            String out = Files.readString(sOut);
            assertTrue(out.contains("RENEGOTIATING"), out);
            assertFalse(out.contains("HTTP/1.1 200"), "a client-initiated renegotiation was accepted:\n" + out);
            assertTrue(ended && out.contains("alert handshake failure"), "no handshake_failure alert at the renegotiation:\n" + out);
            URI plain = URI.create("http://" + metrics.getAuthority() + "/metrics");
            assertThrows(IOException.class, () -> http.send(HttpRequest.newBuilder(plain).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()), "plain HTTP must not be served on the TLS port");
        }
    }

    private static String auth(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    @HostOnly // argument checks
    void badInputIsOneLineAndExitCode2(@TempDir Path dir) throws Exception {
        Path web = Files.writeString(dir.resolve("web.yml"), "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n  cipher_suites: [x]\n");
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            for (String[] args : List.of(new String[]{"serve", "--listen", "nonsense"},
                    new String[]{"serve", "--listen", "127.0.0.1:70000"},
                    new String[]{"serve", "--max-map-series", "-1"},
                    new String[]{"serve", "--listen", "127.0.0.1:0", "--web-config", web.toString()},
                    new String[]{"serve", "--listen", "127.0.0.1:" + taken.getLocalPort()})) {
                Cli.Result r = Cli.run(args);
                assertEquals(2, r.exit(), String.join(" ", args) + ": " + r.err());
                assertEquals(1, r.err().strip().lines().count(), r.err());
                assertTrue(r.err().startsWith("bpfcharge: "), r.err());
            }
        }
    }
}
