package io.bpfcharge.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.host.Processes;
import io.bpfcharge.hook.HookIT;
import io.bpfcharge.metrics.Daemon;
import io.bpfcharge.metrics.Scrape;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Where a stranded charge came from: a map made in a container's cgroup that is then removed while its parent
 * (the pod) still has a task below it. The kernel moves the charge to the pod and forgets the container; the
 * agent's state file remembers it, across an agent restart. Without that history the pod is flagged interior.
 */
@KernelTest
class ReparentIT {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aMapOfARemovedContainerIsReportedReparentedWithItsOriginAlsoAfterAnAgentRestart() throws Exception {
        Path tmp = Files.createTempDirectory("bpfcharge-reparent");
        Path roots = Files.createDirectories(tmp.resolve("crun")), state = tmp.resolve("state"), log = tmp.resolve("agent.log");
        List<Process> toKill = new ArrayList<>();
        try (TestCgroups cg = new TestCgroups()) {
            String pod = cg.child("pod");
            if (cg.hierarchy().version() == 2) Files.writeString(cg.hierarchy().dir(pod).resolve("cgroup.subtree_control"), "+memory");
            String ctr = cg.child("pod/ctr"), sibling = cg.child("pod/sibling");
            toKill.add(HookIT.container(cg, sibling)); // keeps the pod populated
            Process init = HookIT.container(cg, ctr);
            RuntimeRootsTest.crun(roots, "ctr-1", init.pid(), Processes.startTicks(init.pid()), "{\"ociVersion\":\"1.0.2\"}");
            Path pin = cg.pin("reparented");
            int id = MapMaker.run(cg, ctr, false, spec("hash", 8, 64, 4096, "agent_reparent").pin(pin)).id(0);
            long ctrId = cg.hierarchy().id(ctr);

            Map<String, String> env = Map.of("BPFCHARGE_STATE_DIR", state.toString(), "BPFCHARGE_RUN_DIR", tmp.toString());
            try (Daemon agent = agent(env, roots, log)) {
                awaitOrigin(state.resolve("origins.json"), id);
                // The container stops and its cgroup is removed: its charge moves up to the pod.
                init.destroyForcibly().waitFor();
                removeWithRetry(cg, ctr);
                // The kernel moves the charge once the removed cgroup's offline work has run (after an RCU grace period).
                Await.until("the kernel moved the charge to the pod", () -> mapsJson(state, id).get("memcg").get("path").asText().equals(pod));
                JsonNode m = mapsJson(state, id);
                assertEquals("reparented", m.get("stranded_reason").asText(), m.toString());
                assertEquals(ctrId, m.get("origin").get("id").asLong());
                assertEquals(ctr, m.get("origin").get("path").asText());
                assertEquals("ctr-1", m.get("origin").get("container").asText());
                JsonNode c = cgroupJson(state, pod);
                assertEquals("reparented", c.get("stranded_reason").asText(), c.toString());
                assertEquals(ctr, c.get("reparented_from").get(0).get("path").asText());
                awaitStranded(agent, pod);
            }
            // The agent restarts: the state file still says where the charge came from.
            try (Daemon agent = agent(env, roots, log)) {
                assertEquals(ctr, mapsJson(state, id).get("origin").get("path").asText());
                awaitStranded(agent, pod);
            }
            // No history (another state dir): the pod has a child and no task of its own, so its charge is interior.
            Path none = tmp.resolve("no-history");
            assertEquals("interior", mapsJson(none, id).get("stranded_reason").asText());
            assertEquals("interior", cgroupJson(none, pod).get("stranded_reason").asText());
            // Freed maps leave the state file at the next reconcile.
            Files.delete(pin);
            try (Daemon agent = agent(env, roots, log)) {
                long deadline = System.nanoTime() + AgentIT.WAIT.toNanos();
                while (Files.readString(state.resolve("origins.json")).contains("\"" + id + "\"")) {
                    if (System.nanoTime() > deadline) fail("freed map " + id + " still in the state file");
                    Thread.sleep(100);
                }
            }
        } finally {
            for (Process p : toKill) p.destroyForcibly().waitFor();
            AgentCrunIT.deleteTree(tmp);
        }
    }

    private static Daemon agent(Map<String, String> env, Path roots, Path log) throws IOException, InterruptedException {
        return new Daemon(env, ProcessBuilder.Redirect.appendTo(log.toFile()), "--recharge", "--runtime-root", roots.toString(),
                "--recharge-interval", "1");
    }

    /** The exporter shows a scan up to --max-scan-age old, so the reparented series may lag the CLI by one scan. */
    private static void awaitStranded(Daemon agent, String pod) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + AgentIT.WAIT.toNanos();
        Scrape last;
        while ((last = scrape(agent)).find("bpfcharge_cgroup_stranded_bpf_memory_bytes", "cgroup", pod, "reason", "reparented").isEmpty()) {
            if (System.nanoTime() > deadline) fail("no reparented series for " + pod + " in the scrape: " + last.all("bpfcharge_cgroup_stranded_bpf_memory_bytes"));
            Thread.sleep(200);
        }
        assertTrue(last.value("bpfcharge_cgroup_stranded_bpf_memory_bytes", "cgroup", pod, "reason", "reparented") > 0);
    }

    private static void awaitOrigin(Path file, int id) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + AgentIT.WAIT.toNanos();
        while (!Files.exists(file) || !Files.readString(file).contains("\"" + id + "\"")) {
            if (System.nanoTime() > deadline) fail("map " + id + " not recorded in " + file);
            Thread.sleep(100);
        }
    }

    /** A cgroup whose last task just exited may refuse rmdir for a moment. */
    private static void removeWithRetry(TestCgroups cg, String path) throws Exception {
        Await.until(path + " removed", () -> {
            if (cg.hierarchy().exists(path)) {
                try {
                    cg.remove(path);
                } catch (RuntimeException e) {
                    return false; // busy: again
                }
            }
            return true;
        });
    }

    private static JsonNode mapsJson(Path state, int id) throws IOException, InterruptedException {
        for (JsonNode m : run(state, "maps", "--json")) if (m.get("id").asInt() == id) return m;
        throw new AssertionError("map " + id + " not in maps --json");
    }

    private static JsonNode cgroupJson(Path state, String path) throws IOException, InterruptedException {
        for (JsonNode c : run(state, "cgroups", "--json").get("cgroups")) if (c.get("path").asText().equals(path)) return c;
        throw new AssertionError(path + " not in cgroups --json");
    }

    private static JsonNode run(Path state, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_STATE_DIR=" + state));
        cmd.addAll(Cli.command(args));
        Cli.Result r = Cli.exec(cmd, null);
        assertEquals(0, r.exit(), r.err());
        return JSON.readTree(r.out());
    }

    private static Scrape scrape(Daemon d) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(d.uri("/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        return Scrape.parse(r.body());
    }
}
