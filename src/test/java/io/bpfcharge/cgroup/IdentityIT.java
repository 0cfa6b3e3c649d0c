package io.bpfcharge.cgroup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real memory cgroups named as the kubelet's two drivers and podman name them, below the test's own memcg
 * (the kubepods part below a prefix, as with kubelet's --cgroup-root), each charged with a map by a process
 * inside: `cgroups --json` and `oom --json` name the pod, container and QoS class.
 */
@KernelTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdentityIT {
    static final String UID = "7c0d3f1e-2b4a-4e6f-8a9b-0c1d2e3f4a5b", ID = "f00dfeed".repeat(8), PODMAN = "0123abcd".repeat(8);
    private TestCgroups cg;
    private String systemd, cgroupfs, podman;
    private MapMaker.Maps a, b, c;

    @BeforeAll
    void start() throws Exception {
        cg = new TestCgroups();
        systemd = cg.nested("kubepods.slice", "kubepods-burstable.slice", "kubepods-burstable-pod" + UID.replace('-', '_') + ".slice",
                "cri-containerd-" + ID + ".scope");
        cgroupfs = cg.nested("kubepods", "besteffort", "pod" + UID, ID);
        podman = cg.nested("machine.slice", "libpod-" + PODMAN + ".scope");
        a = MapMaker.run(cg, systemd, true, spec("hash", 8, 8, 100, "id_systemd"));
        b = MapMaker.run(cg, cgroupfs, true, spec("hash", 8, 8, 100, "id_cgroupfs"));
        c = MapMaker.run(cg, podman, true, spec("hash", 8, 8, 100, "id_podman"));
    }

    @AfterAll
    void stop() {
        for (MapMaker.Maps m : new MapMaker.Maps[]{a, b, c}) if (m != null) m.close();
        if (cg != null) cg.close();
    }

    private static JsonNode row(JsonNode rows, String path) {
        for (JsonNode r : rows) if (r.get("path").asText().equals(path)) return r;
        throw new AssertionError(path + " not in " + rows);
    }

    private static void named(JsonNode row, String pod, String container, String qos) {
        assertEquals(pod, row.get("pod_uid").isNull() ? null : row.get("pod_uid").asText(), row.toString());
        assertEquals(container, row.get("container_id").asText(), row.toString());
        assertEquals(qos, row.get("qos").isNull() ? null : row.get("qos").asText(), row.toString());
    }

    @Test
    void cgroupsAndOomNameThePodContainerAndQos() throws Exception {
        Cli.Result r = Cli.run("cgroups", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode rows = new ObjectMapper().readTree(r.out()).get("cgroups");
        named(row(rows, systemd), UID, ID, "burstable");
        named(row(rows, cgroupfs), UID, ID, "besteffort");
        named(row(rows, podman), null, PODMAN, null);
        assertTrue(row(rows, systemd).get("path").asText().startsWith(cg.base() + "/kubepods.slice/"), "below a prefix");

        Cli.Result o = Cli.run("oom", "--json", "--cgroup", cg.base());
        assertEquals(0, o.exit(), o.err());
        JsonNode leaves = new ObjectMapper().readTree(o.out()).get("cgroups");
        named(row(leaves, systemd), UID, ID, "burstable");
        named(row(leaves, cgroupfs), UID, ID, "besteffort");
    }
}
