package io.bpfcharge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfcharge.cgroup.ContainerIdentity;
import io.bpfcharge.oom.Leaf;
import io.bpfcharge.oom.Policy;
import io.bpfcharge.oom.Ranking;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static io.bpfcharge.cli.PrinterTest.capture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The oom table: the victim marks, the summary, container ids cut short, and lines that fit the terminal. */
class OomPrinterTest {
    static final String ID = "a1b2c3d4".repeat(8);
    static final String POD = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f6a4a1e_5c2b_4b8e_9d3c_2a7e1f0b9c44.slice";

    static Leaf leaf(String path, long usage, long bpf, long surviving) {
        return new Leaf(path, 1, ContainerIdentity.parse(path), usage, OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), Optional.empty(),
                0, 1, bpf, surviving);
    }

    final Ranking ranking = Ranking.of(Policy.SYSTEMD_OOMD, List.of(
            leaf(POD + "/cri-containerd-" + ID + ".scope", 80 << 20, 50 << 20, 50 << 20),
            leaf("/system.slice/profiler.service", 60 << 20, 30 << 20, 0)), 1L << 34);

    @Test
    void marksBothVictimsAndFitsTheTerminal() {
        String table = capture(out -> new OomPrinter(120, io.bpfcharge.oom.Reserve.DEFAULT).print(out, false, ranking));
        List<String> lines = table.lines().toList();
        for (String l : lines.subList(0, 3)) assertTrue(l.length() <= 120, "fits 120 columns: " + l);
        assertTrue(lines.get(1).endsWith("<- victim now") && lines.get(1).contains("…"), table);
        assertTrue(lines.get(1).contains("cri-containerd-a1b2c3d4a1b2.scope"), "the id cut to 12 digits, the path's end kept: " + table);
        assertTrue(lines.get(2).endsWith("<- net victim"), "the victim by NET-SCORE: " + table);
        assertEquals("victim changes: systemd-oomd kills " + POD + "/cri-containerd-a1b2c3d4a1b2.scope, which frees 50.0M less than"
                + " it counts; without the BPF bytes that survive a kill it would kill /system.slice/profiler.service", lines.get(3));
        String piped = capture(out -> new OomPrinter(Integer.MAX_VALUE, io.bpfcharge.oom.Reserve.DEFAULT).print(out, false, ranking));
        assertTrue(piped.contains(POD + "/cri-containerd-a1b2c3d4a1b2.scope"), "a pipe gets whole paths: " + piped);
    }

    @Test
    void jsonKeepsWholeIdsAndNamesBothVictims() throws Exception {
        JsonNode o = io.bpfcharge.Mappers.JSON.readTree(capture(out -> new OomPrinter(80, io.bpfcharge.oom.Reserve.DEFAULT).print(out, true, ranking)));
        assertEquals("systemd-oomd", o.get("policy").asText());
        assertEquals(ID, o.get("cgroups").get(0).get("container_id").asText());
        assertEquals("burstable", o.get("cgroups").get(0).get("qos").asText());
        assertEquals(30 << 20, o.get("cgroups").get(0).get("adjusted_figure").asLong());
        assertEquals("/system.slice/profiler.service", o.get("adjusted_victim").asText());
        assertTrue(o.get("victim_changes").asBoolean());
        assertTrue(o.get("cgroups").get(1).get("pod_uid").isNull());
    }

    /** A restarted container: memory.max 64M, a recharged pinned map of 52M. */
    static Leaf limited(long limit, long surviving) {
        String path = "/kubepods/burstable/pod0f6a4a1e-5c2b-4b8e-9d3c-2a7e1f0b9c44/" + ID;
        return new Leaf(path, 2, ContainerIdentity.parse(path), surviving, OptionalLong.empty(), OptionalLong.empty(),
                OptionalLong.of(limit), Optional.of(true), 0, 1, surviving, surviving);
    }

    @Test
    void aCgroupWhoseKillFreesTooLittleOfItsLimitGetsOneLine() throws Exception {
        Ranking r = Ranking.of(Policy.KERNEL, List.of(limited(64 << 20, 52 << 20), leaf("/other", 10 << 20, 0, 0)), 1L << 34);
        String table = capture(out -> new OomPrinter(Integer.MAX_VALUE, io.bpfcharge.oom.Reserve.DEFAULT).print(out, false, r));
        List<String> repeated = table.lines().filter(l -> l.startsWith("repeated OOM: ")).toList();
        assertEquals(List.of("repeated OOM: /kubepods/burstable/pod0f6a4a1e-5c2b-4b8e-9d3c-2a7e1f0b9c44/a1b2c3d4a1b2 is OOM-killed"
                + " over and over once its processes need more than 12.0M: a kill frees at most 12.0M of its 64.0M limit (18%, below"
                + " the 25% reserve), 52.0M of BPF bytes survive the kill"), repeated);
        String relaxed = capture(out -> new OomPrinter(Integer.MAX_VALUE, new io.bpfcharge.oom.Reserve(15)).print(out, false, r));
        assertTrue(relaxed.lines().noneMatch(l -> l.startsWith("repeated OOM")), "18% is above a 15% reserve: " + relaxed);

        JsonNode o = io.bpfcharge.Mappers.JSON.readTree(capture(out -> new OomPrinter(80, io.bpfcharge.oom.Reserve.DEFAULT).print(out, true, r)));
        assertEquals(25, o.get("reserve_percent").asInt());
        JsonNode row = o.get("cgroups").get(0).get("limit_bytes").asLong() == 64 << 20 ? o.get("cgroups").get(0) : o.get("cgroups").get(1);
        assertEquals(12 << 20, row.get("kill_room_bytes").asLong());
        assertTrue(row.get("repeated_oom").asBoolean(), row.toString());
        JsonNode other = row == o.get("cgroups").get(0) ? o.get("cgroups").get(1) : o.get("cgroups").get(0);
        assertTrue(other.get("limit_bytes").isNull() && other.get("kill_room_bytes").isNull(), other.toString());
        assertTrue(!other.get("repeated_oom").asBoolean());
    }
}
