package io.bpfcharge.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.OomPolicy;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `serve --oom-map`: the map the daemon keeps pinned, read by a BPF program the kernel runs
 * (bpf/oom_policy.bpf.c through BPF_PROG_TEST_RUN), matches `cgroups --json`, whole at every read while the
 * daemon keeps swapping in new scans, and loses a cgroup once its charge is gone.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OomMapIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private TestCgroups cg;
    private String pinner, holder, idle;
    private MapMaker.Maps pinned, held;
    private Daemon daemon;
    private Path pin;

    @BeforeAll
    void start() throws Exception {
        cg = new TestCgroups();
        pinner = cg.child("pinner");
        holder = cg.child("holder");
        idle = cg.child("idle");
        pinned = MapMaker.run(cg, pinner, true, spec("array", 4, 64, 800_000, "oommap_pinned").pin(cg.pin("pinned")));
        held = MapMaker.run(cg, holder, true, spec("hash", 8, 64, 250_000, "oommap_held"));
        MapMaker.run(cg, idle, false, spec("array", 4, 256, 4096, "oommap_idle").pin(cg.pin("idle")));
        pin = cg.pin("oom");
        daemon = new Daemon(Map.of(), "--oom-map", pin.toString(), "--oom-map-interval", "0.3", "--max-scan-age", "0");
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (daemon != null) daemon.close();
        } finally {
            if (pinned != null) pinned.close();
            if (held != null) held.close();
            if (cg != null) cg.close();
        }
    }

    private JsonNode row(JsonNode cgroups, String path) {
        for (JsonNode c : cgroups.get("cgroups")) if (c.get("path").asText().equals(path)) return c;
        throw new AssertionError(path + " not in cgroups --json");
    }

    private boolean agrees(OomPolicy.Pick p, JsonNode cgroups, String[] paths) {
        for (int i = 0; i < paths.length; i++) {
            JsonNode row = row(cgroups, paths[i]);
            OomPolicy.Read read = p.candidates().get(i);
            if (row.get("bpf_bytes").asLong() != read.bpfBytes() || row.get("stranded_bytes").asLong() != read.strandedBytes()
                    || row.get("bpf_surviving_kill_bytes").asLong() != read.survivingKillBytes()) return false;
        }
        return true;
    }

    private static BpfObject policy(Path pin) {
        try (MapFd map = (MapFd) BpfFd.openPin(pin)) {
            return BpfObject.load("oom_policy", Map.of("bpfcharge_oom", map), null);
        }
    }

    private long[][] candidates(JsonNode cgroups, String... paths) {
        long[][] c = new long[paths.length][];
        for (int i = 0; i < paths.length; i++) {
            JsonNode r = row(cgroups, paths[i]);
            c[i] = new long[]{r.get("id").asLong(), r.get("usage_bytes").asLong()};
        }
        return c;
    }

    @Test
    void aBpfProgramReadsWhatCgroupsJsonSaysAndPicksTheVictimAKillHelps() throws Exception {
        pinWhenReady();
        Cli.Result r = Cli.run("cgroups", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode cgroups = JSON.readTree(r.out());
        String[] paths = {pinner, holder, idle};
        long[][] in = candidates(cgroups, paths);
        try (BpfObject policy = policy(pin)) {
            // The CLI's scan opened the holder's unpinned map by id for a moment: a daemon scan meanwhile rightly saw
            // a holder outside the cgroup. The daemon's scans after the CLI ended see what the CLI saw.
            Await.until("the OOM map agrees with cgroups --json", () -> agrees(OomPolicy.pick(policy, in), cgroups, paths));
            OomPolicy.Pick p = OomPolicy.pick(policy, in);
            for (int i = 0; i < paths.length; i++) {
                JsonNode row = row(cgroups, paths[i]);
                OomPolicy.Read read = p.candidates().get(i);
                assertEquals(1, read.version(), paths[i]);
                assertEquals(row.get("bpf_bytes").asLong(), read.bpfBytes(), paths[i] + " bpf_bytes");
                assertEquals(row.get("bpf_surviving_kill_bytes").asLong(), read.survivingKillBytes(), paths[i] + " surviving");
                assertEquals(row.get("stranded_bytes").asLong(), read.strandedBytes(), paths[i] + " stranded");
                assertEquals(Math.max(0, in[i][1] - read.survivingKillBytes()), read.adjusted());
            }
            assertEquals(0, p.candidates().get(1).survivingKillBytes(), "the holder's map dies with it");
            assertEquals(p.candidates().get(2).bpfBytes(), p.candidates().get(2).strandedBytes(), "idle: stranded");
            assertTrue(in[0][1] > in[1][1], "by usage the pinner is larger");
            assertEquals(1, p.victim(), "less what survives a kill, the holder is the victim: " + p);

            // Every read while the daemon swaps in scan after scan is one whole scan: the same values each time.
            OomPolicy.Read first = p.candidates().get(0);
            for (long end = System.nanoTime() + 2_000_000_000L; System.nanoTime() < end; )
                assertEquals(first, OomPolicy.pick(policy, in).candidates().get(0));
        }
    }

    @Test
    void aCgroupWhoseChargeIsGoneLosesItsEntry() throws Exception {
        String gone = cg.child("gone");
        MapMaker.Maps m = MapMaker.run(cg, gone, true, spec("hash", 8, 8, 1000, "oommap_gone"));
        long id = cg.hierarchy().id(gone);
        try (BpfObject policy = policy(pinWhenReady())) {
            long[][] in = {{id, 1 << 20}};
            Await.until("entry for " + gone + " written", () -> OomPolicy.pick(policy, in).candidates().getFirst().version() != 0);
            m.close(); // the map goes with its only holder: the cgroup holds no charge
            Await.until("entry for " + gone + " deleted", () -> OomPolicy.pick(policy, in).candidates().getFirst().version() == 0);
        }
    }

    private Path pinWhenReady() throws Exception {
        Await.until("the daemon pinned " + pin, Duration.ofSeconds(30), () -> Files.exists(pin));
        return pin;
    }

    @Test
    @HostOnly // argument checks
    void aBadPinIsOneLine() throws Exception {
        Cli.Result outside = Cli.run("serve", "--oom-map", "/tmp/not-bpffs/oom");
        assertEquals(2, outside.exit(), outside.err());
        assertTrue(outside.err().contains("not in a bpffs mount"), outside.err());
        Cli.Result dot = Cli.run("serve", "--oom-map", cg.pin("oom.map").toString());
        assertEquals(2, dot.exit(), dot.err());
        Cli.Result stray = Cli.run("serve", "--oom-map-interval", "1");
        assertEquals(2, stray.exit(), stray.err());
        Cli.Result other = Cli.run("serve", "--listen", "127.0.0.1:0", "--oom-map", cg.pin("idle").toString());
        assertEquals(6, other.exit(), other.err());
        assertEquals(1, other.err().strip().lines().count(), other.err());
    }
}
