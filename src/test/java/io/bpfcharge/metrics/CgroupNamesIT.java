package io.bpfcharge.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory cgroups whose names are not UTF-8 (b"a\xff", b"a\xfe", which Java decodes alike) or not ASCII ("café",
 * which Java cannot name at all under the C locale), each charged a map: a real scrape of `serve` and
 * `cgroups --json`, under a UTF-8 and the C locale, must keep them apart ({@code %HH} for the bytes that are not
 * UTF-8) with every value, keyed by the right cgroup id.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CgroupNamesIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /** A cgroup of the test: its directory (made by its bytes), the text bpfcharge must print, its map. */
    private record Named(Path dir, String path, long inode, MapMaker.Maps maker) {}

    private TestCgroups cg;
    private final List<Named> named = new ArrayList<>();

    @BeforeAll
    void start() throws Exception {
        cg = new TestCgroups();
        Map<String, byte[]> names = new LinkedHashMap<>();
        names.put("a%FF", new byte[]{'a', (byte) 0xff});
        names.put("a%FE", new byte[]{'a', (byte) 0xfe});
        names.put("café", "café".getBytes(StandardCharsets.UTF_8));
        int entries = 2000;
        for (var n : names.entrySet()) {
            Path dir = cg.rawChild(n.getValue());
            MapMaker.Maps m = MapMaker.run(cg, dir, true, spec("hash", 8, 64, entries, "names_it"));
            named.add(new Named(dir, cg.base() + "/" + n.getKey(), (Long) Files.getAttribute(dir, "unix:ino"), m));
            entries *= 4; // a map size per cgroup, so a merged or swapped value shows
        }
    }

    @AfterAll
    void stop() {
        if (cg != null) cg.close(); // ends the makers, removes the cgroups by their bytes
    }

    @ParameterizedTest
    @ValueSource(strings = {"C.UTF-8", "C"})
    void serveKeepsEveryCgroupApartWithItsValues(String locale) throws Exception {
        Scrape s;
        try (Daemon d = new Daemon(Map.of("LC_ALL", locale), "--max-scan-age", "0", "--max-map-series", "0")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(d.uri("/metrics")).timeout(Duration.ofSeconds(60)).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            assertEquals(200, r.statusCode(), r.body());
            s = Scrape.parse(r.body());
        }
        long previous = 0;
        for (Named n : named) {
            Scrape.Sample map = s.find("bpfcharge_map_memory_bytes", "map_id", Integer.toString(n.maker().id(0)))
                    .orElseThrow(() -> new AssertionError("no series for the map of " + n.path() + ": " + cgroupLabels(s)));
            assertEquals(n.path(), map.labels().get("cgroup"), "the map's cgroup label");
            assertEquals(1, (long) s.value("bpfcharge_cgroup_bpf_maps", "cgroup", n.path()));
            long bpf = (long) s.value("bpfcharge_cgroup_bpf_memory_bytes", "cgroup", n.path());
            assertEquals((long) map.value(), bpf, "the cgroup's BPF bytes are its one map's");
            assertTrue(bpf > previous, "each cgroup's map is larger than the one before: " + cgroupLabels(s));
            previous = bpf;
            assertTrue(s.value("bpfcharge_cgroup_memory_usage_bytes", "cgroup", n.path()) >= bpf,
                    "usage is read from the cgroup's own directory");
        }
        assertFalse(cgroupLabels(s).stream().anyMatch(l -> l.contains("\uFFFD")), "no name decoded lossily: " + cgroupLabels(s));
    }

    @ParameterizedTest
    @ValueSource(strings = {"C.UTF-8", "C"})
    void cgroupsJsonKeepsEveryCgroupApartWithItsValues(String locale) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("env", "LC_ALL=" + locale));
        cmd.addAll(Cli.command("cgroups", "--json"));
        Cli.Result r = Cli.exec(cmd, null);
        assertEquals(0, r.exit(), r.err());
        Map<String, JsonNode> byPath = new LinkedHashMap<>();
        for (JsonNode c : JSON.readTree(r.out()).get("cgroups")) {
            JsonNode was = byPath.put(c.get("path").asText(), c);
            assertTrue(was == null, "two rows for " + c.get("path"));
        }
        for (Named n : named) {
            JsonNode c = byPath.get(n.path());
            assertTrue(c != null, "no row for " + n.path() + " in " + byPath.keySet());
            assertEquals(n.inode(), c.get("id").asLong(), "the row's id is the directory's inode");
            assertEquals(1, c.get("maps").asInt());
            assertTrue(c.get("usage_bytes").asLong() >= c.get("bpf_bytes").asLong(), "usage is read: " + c);
        }
    }

    private static List<String> cgroupLabels(Scrape s) {
        return s.all("bpfcharge_cgroup_bpf_memory_bytes").stream().map(x -> x.labels().get("cgroup")).toList();
    }
}
