package io.bpfcharge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfcharge.Mappers;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.MapMaker;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static io.bpfcharge.testing.MapMaker.spec;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * docs/json.md names every field the commands really print: each command's --json output, on real maps of a
 * real memcg, read field by field (also the keys of {@code phases_ms}, which are the phases' names).
 */
@KernelTest
@HostOnly // the same printers on every kernel
class JsonDocsIT {
    @TempDir Path runDir;

    @Test
    void everyFieldOfEveryCommandsJsonIsDocumented() throws Exception {
        String doc = Files.readString(DocsTest.ROOT.resolve("docs/json.md"));
        Set<String> missing = new TreeSet<>();
        try (TestCgroups cg = new TestCgroups()) {
            String src = cg.child("src"), dst = cg.child("dst");
            Path pin = cg.pin("json_docs");
            MapMaker.run(cg, src, false, spec("hash", 8, 8, 64, "json_docs").pin(pin)).close();
            // A map a process holds: its holder's fields are printed too.
            try (MapMaker.Maps _ = MapMaker.run(cg, src, true, spec("array", 4, 8, 4, "json_docs_held"))) {
                List<List<String>> commands = List.of(List.of("maps"), List.of("maps", "--pinned"), List.of("cgroups"),
                        List.of("oom"), List.of("doctor"),
                        List.of("migrate", "--map", pin.toString(), "--to-cgroup", dst, "--dry-run"),
                        List.of("migrate", "--map", pin.toString(), "--to-cgroup", dst),
                        List.of("migrate", "--map", "id:2000000000", "--to-cgroup", dst));
                for (List<String> c : commands) {
                    List<String> cmd = new ArrayList<>(List.of("env", "BPFCHARGE_RUN_DIR=" + runDir, "BPFCHARGE_STATE_DIR=" + runDir));
                    List<String> args = new ArrayList<>(c);
                    args.add("--json");
                    cmd.addAll(Cli.command(args.toArray(String[]::new)));
                    Cli.Result r = Cli.exec(cmd, null);
                    JsonNode out = Mappers.JSON.readTree(r.out());
                    for (String field : fields(out, new TreeSet<>()))
                        if (!documented(doc, field)) missing.add(c.getFirst() + ": " + field);
                }
            } finally {
                Files.deleteIfExists(pin);
            }
        }
        assertEquals(Set.of(), missing, "printed under --json but not in docs/json.md");
    }

    /** As docs/json.md writes fields: `name`, in a list `{id, path}`, or quoted in a shape `{"error": ...}`. */
    private static boolean documented(String doc, String field) {
        return Stream.of("`" + field + "`", "`" + field + ",", "{" + field + ",", ", " + field + ",", ", " + field + "}",
                ", " + field + "`", "{" + field + ":", ", " + field + ":", "\"" + field + "\"").anyMatch(doc::contains);
    }

    private static Set<String> fields(JsonNode n, Set<String> into) {
        if (n.isObject()) n.fields().forEachRemaining(e -> {
            into.add(e.getKey());
            fields(e.getValue(), into);
        });
        else if (n.isArray()) n.forEach(x -> fields(x, into));
        return into;
    }
}
