package io.bpfcharge.cli;

import io.bpfcharge.migrate.Result;
import com.fasterxml.jackson.databind.JsonNode;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.inventory.CgroupTotal;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.migrate.MigrationRequest;
import io.bpfcharge.migrate.MigrationResult;
import io.bpfcharge.migrate.Plan;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The human and JSON forms of one result say the same thing; errors under --json are JSON too. */
class PrinterTest {
    static final Memcg EMPTY = new Memcg(11, "/pod/idle", true, false);

    static MapRecord map(int id, long bytes, Memcg memcg) {
        MapInfo info = new MapInfo(id, MapType.HASH, "m" + id, 8, 64, 100, 0, 0, 0, 0, 0, 0, 0);
        return new MapRecord(info, bytes, memcg, List.of(), List.of(), List.of(), List.of());
    }

    static String capture(Consumer<PrintWriter> print) {
        StringWriter s = new StringWriter();
        print.accept(new PrintWriter(s));
        return s.toString();
    }

    @Test
    void cgroupTotalsAgreeBetweenTableAndJsonAndCountUnchargedMapsApart() throws Exception {
        Snapshot s = new Snapshot(Instant.EPOCH, Duration.ZERO, List.of(map(1, 3000, EMPTY), map(2, 1000, EMPTY), map(3, 500, null)),
                List.of(new CgroupTotal(EMPTY, 4000, 2, OptionalLong.of(9000), OptionalLong.empty(), 0)), java.util.Map.of());
        JsonNode total = io.bpfcharge.Mappers.JSON.readTree(capture(out -> new CgroupsPrinter(Sort.Cgroups.BYTES, Integer.MAX_VALUE).print(out, true, s))).get("total");
        assertEquals(4000, total.get("bpf_bytes").asLong());
        assertEquals(2, total.get("maps").asInt());
        assertEquals(4000, total.get("stranded_bytes").asLong());
        assertEquals(4000, total.get("bpf_surviving_kill_bytes").asLong());
        assertEquals(500, total.get("uncharged_bytes").asLong());
        assertEquals(1, total.get("uncharged_maps").asInt());

        String table = capture(out -> new CgroupsPrinter(Sort.Cgroups.BYTES, Integer.MAX_VALUE).print(out, false, s));
        String totalRow = table.lines().filter(l -> l.startsWith("TOTAL")).findFirst().orElseThrow();
        assertEquals(List.of("TOTAL", "3.9K", "2", "3.9K", "3.9K"), List.of(totalRow.trim().split("\\s+")), table);
        assertTrue(table.contains("1 more maps (500B) are charged to no memory cgroup"), table);
    }

    static MigrationResult migrated(long bytes, boolean oldFreed, long sourceBefore, long sourceAfter, long targetBefore, long targetAfter) {
        MapRecord m = map(3, bytes, new Memcg(12, "/demo/web-1", true, false));
        Plan.Move move = new Plan.Move(m, Plan.Kind.STANDALONE, "/demo/web-1", "/demo/web-2", 13, List.of(), List.of("/sys/fs/bpf/demo/x"),
                0, OptionalLong.empty(), MigrationRequest.Strategy.COPY_SWAP, MigrationRequest.Merge.OVERWRITE);
        return new MigrationResult(Result.MIGRATED, move, 5, new MigrationResult.Settled(10, 0), java.util.Map.of(),
                new MigrationResult.Usage(OptionalLong.of(sourceBefore), OptionalLong.of(sourceAfter), OptionalLong.of(targetBefore),
                        OptionalLong.of(targetAfter)), oldFreed, List.of());
    }

    static String sourceLine(MigrationResult r) {
        return capture(out -> new MigrationPrinter().print(out, false, r)).lines()
                .filter(l -> l.startsWith("  /demo/web-1:")).findFirst().orElseThrow();
    }

    @Test
    void aSourceNotYetUnchargedReadsStillReleasingNotAHalfFreedFigure() {
        long mib = 1 << 20;
        // Freed and uncharged: the figure.
        assertEquals("  /demo/web-1: 99.0M -> 32.0M", sourceLine(migrated(67 * mib, true, 99 * mib, 32 * mib, 0, 67 * mib)));
        // Freed, but the source gave back 67M of the 90M its twin added to the target.
        assertEquals("  /demo/web-1: 99.0M -> still releasing", sourceLine(migrated(90 * mib, true, 99 * mib, 32 * mib, 0, 90 * mib)));
        // Not freed within the wait.
        assertEquals("  /demo/web-1: 99.0M -> still releasing", sourceLine(migrated(67 * mib, false, 99 * mib, 99 * mib, 0, 67 * mib)));
        // A per-CPU map's memlock (90M) overstates its charge (the 20M its twin added): uncharged, so the figure.
        assertEquals("  /demo/web-1: 99.0M -> 79.0M", sourceLine(migrated(90 * mib, true, 99 * mib, 79 * mib, 0, 20 * mib)));
    }

    @Test
    void holdersShowProgramNamesAsProcessesShowTheirs() {
        MapRecord held = new MapRecord(new MapInfo(5, MapType.HASH, "m5", 8, 64, 100, 0, 0, 0, 0, 0, 0, 0), 1, EMPTY,
                List.of(), List.of(), List.of(new MapRecord.ProcessHolder(42, "agent", null)),
                List.of(new MapRecord.ProgramHolder(9, "xdp_main")));
        String table = capture(out -> new MapsPrinter(java.util.Map.of(), java.util.Map.of(), Integer.MAX_VALUE).print(out, false, List.of(held)));
        assertTrue(table.contains("agent/42,xdp_main/prog:9"), table);
    }

    @Test
    void outerSlotsShowAFourByteKeyAsItsNumberAndOthersInHex() {
        MapRecord inner = new MapRecord(new MapInfo(6, MapType.HASH, "m6", 8, 64, 100, 0, 0, 0, 0, 0, 0, 0), 1, EMPTY, List.of(),
                List.of(new MapRecord.Slot(21859, "02000000"), new MapRecord.Slot(21860, "ffffffff"), new MapRecord.Slot(21861, "0100000000000000")),
                List.of(), List.of());
        String table = capture(out -> new MapsPrinter(java.util.Map.of(), java.util.Map.of(), Integer.MAX_VALUE).print(out, false, List.of(inner)));
        assertTrue(table.contains("21859[2],21860[4294967295],21861[0100000000000000]"), table);
    }

    @Test
    void aMigrationIntoACgroupWithNoTasksWarnsThatTheMapIsStranded() {
        MigrationResult done = migrated(1 << 20, true, 0, 0, 0, 0);
        assertEquals("warning: /demo/web-2 has no tasks: map 5 is stranded there (empty) until a task joins it",
                MigrationPrinter.emptyTarget(done, false).orElseThrow());
        assertTrue(MigrationPrinter.emptyTarget(done, true).isEmpty());
    }

    @Test
    void aCgroupPathLeavingTheHierarchyIsAUsageErrorAndAMissingCgroupIsNotFound() {
        for (String command : List.of("maps", "cgroups", "oom")) {
            StringWriter out = new StringWriter(), err = new StringWriter();
            assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), command, "--cgroup", "/../../etc"), command);
            assertEquals(1, err.toString().strip().lines().count(), err.toString());
            assertTrue(err.toString().startsWith("bpfcharge: ") && err.toString().contains("leaves"), err.toString());
            StringWriter out2 = new StringWriter(), err2 = new StringWriter();
            assertEquals(5, Main.run(new PrintWriter(out2), new PrintWriter(err2), command, "--cgroup", "/no-such-cgroup-here"), command);
            assertTrue(err2.toString().contains("memory cgroup /no-such-cgroup-here does not exist"), err2.toString());
        }
    }

    @Test
    void errorsUnderJsonAreOneJsonDocumentOnStdout() throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int exit = Main.run(new PrintWriter(out), new PrintWriter(err), "maps", "--json", "--no-such-option");
        assertEquals(2, exit);
        JsonNode error = io.bpfcharge.Mappers.JSON.readTree(out.toString());
        assertEquals(2, error.get("exit").asInt());
        assertTrue(error.get("error").asText().contains("--no-such-option"), out.toString());
        assertTrue(err.toString().startsWith("bpfcharge: "), err.toString());
    }

    @Test
    void withoutJsonErrorsGoToStderrOnly() {
        StringWriter out = new StringWriter(), err = new StringWriter();
        assertEquals(2, Main.run(new PrintWriter(out), new PrintWriter(err), "maps", "--no-such-option"));
        assertEquals("", out.toString());
    }
}
