package io.bpfcharge.oom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `bpfcharge oom` against real cgroups: "pinner" holds a large pinned map (its charge survives a kill),
 * "holder" a smaller map only its own process holds (a kill frees it). By usage the pinner is the victim;
 * less the BPF bytes that survive a kill, the holder is.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OomIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private TestCgroups cg;
    private String pinner, holder;
    private MapMaker.Maps pinned, held;

    @BeforeAll
    void start() throws Exception {
        cg = new TestCgroups();
        pinner = cg.child("pinner");
        holder = cg.child("holder");
        pinned = MapMaker.run(cg, pinner, true, spec("array", 4, 64, 800_000, "oom_pinned").pin(cg.pin("pinned")));
        held = MapMaker.run(cg, holder, true, spec("hash", 8, 64, 250_000, "oom_held"));
        // Both charged in full when created, to the creator's memcg. The pinned one is an array: its fdinfo
        // memlock is exact on every kernel (a hash's was an estimate of half its charge before 6.4).
    }

    @AfterAll
    void stop() {
        if (pinned != null) pinned.close();
        if (held != null) held.close();
        if (cg != null) cg.close();
    }

    private Map<String, JsonNode> rows(JsonNode oom) {
        Map<String, JsonNode> byPath = new HashMap<>();
        for (JsonNode r : oom.get("cgroups")) byPath.put(r.get("path").asText(), r);
        return byPath;
    }

    private JsonNode oom(String... args) throws Exception {
        String[] all = new String[args.length + 4];
        all[0] = "oom";
        all[1] = "--json";
        all[2] = "--cgroup";
        all[3] = cg.base();
        System.arraycopy(args, 0, all, 4, args.length);
        Cli.Result r = Cli.run(all);
        assertEquals(0, r.exit(), r.err());
        return JSON.readTree(r.out());
    }

    @Test
    void theVictimChangesWhenThePinnedChargeIsTakenOff() throws Exception {
        for (String policy : new String[]{"kernel", "oomd", "systemd-oomd"}) {
            JsonNode o = oom("--policy", policy);
            Map<String, JsonNode> rows = rows(o);
            JsonNode p = rows.get(pinner), h = rows.get(holder);
            assertTrue(p.get("bpf_surviving_kill_bytes").asLong() > 48 << 20, policy + ": " + p);
            assertEquals(0, h.get("bpf_surviving_kill_bytes").asLong(), h.toString());
            assertEquals(h.get("usage_bytes").asLong(), cg.usage(holder), 4 << 20, "usage as the cgroup file says");
            assertEquals(1, p.get("rank").asInt(), policy + " ranks by usage: " + o);
            assertEquals(2, h.get("rank").asInt());
            assertEquals(1, h.get("adjusted_rank").asInt(), policy + " without the surviving charge: " + o);
            assertEquals(pinner, o.get("victim").asText());
            assertEquals(holder, o.get("adjusted_victim").asText());
            assertTrue(o.get("victim_changes").asBoolean());
        }
    }

    @Test
    void oomScoreAdjKeepsTheKernelsVictim() throws Exception {
        // Raised (lowering below the start value needs CAP_SYS_RESOURCE): 1000 adds RAM + swap to its badness.
        Path adj = Path.of("/proc/" + pinned.pid() + "/oom_score_adj");
        String before = Files.readString(adj).trim();
        Files.writeString(adj, "1000");
        try {
            JsonNode k = oom("--policy", "kernel");
            JsonNode p = rows(k).get(pinner);
            assertEquals(1000, p.get("oom_score_adj").asInt());
            assertTrue(p.get("figure").asLong() > Leaves.totalMemory(), p.toString());
            assertEquals(pinner, k.get("victim").asText());
            assertEquals(pinner, k.get("adjusted_victim").asText(), "oom_score_adj outweighs any BPF charge");
            assertFalse(k.get("victim_changes").asBoolean());
            // oomd does not read oom_score_adj: its victim still changes.
            assertTrue(oom("--policy", "oomd").get("victim_changes").asBoolean());
        } finally {
            Files.writeString(adj, before);
        }
    }

    @Test
    void theTableMarksWhereTheVictimChanges() throws Exception {
        Cli.Result r = Cli.run("oom", "--cgroup", cg.base(), "--policy", "oomd");
        assertEquals(0, r.exit(), r.err());
        String victimLine = r.out().lines().filter(l -> l.endsWith("<- victim now")).findFirst().orElseThrow(() -> new AssertionError(r.out()));
        assertTrue(victimLine.contains(pinner), r.out());
        assertTrue(r.out().lines().anyMatch(l -> l.contains(holder) && l.endsWith("<- net victim")), r.out());
        assertTrue(r.out().contains("victim changes: oomd kills " + pinner), r.out());
    }

    @Test
    @HostOnly // argument checks
    void badPolicyOrCgroupIsOneLine() throws Exception {
        Cli.Result bad = Cli.run("oom", "--policy", "earlyoom");
        assertEquals(2, bad.exit());
        assertEquals("bpfcharge: --policy earlyoom is not one of kernel, oomd, systemd-oomd", bad.err().strip());
        Cli.Result missing = Cli.run("oom", "--cgroup", cg.base() + "/nope");
        assertEquals(5, missing.exit());
        assertEquals(1, missing.err().strip().lines().count(), missing.err());
    }
}
