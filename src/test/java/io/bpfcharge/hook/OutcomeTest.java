package io.bpfcharge.hook;

import io.bpfcharge.migrate.Result;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfcharge.BpfchargeException.Exit;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hook's log lines and the shipped oci-hooks(5) files. */
class OutcomeTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static Outcome outcome(Result r, Exit exit) {
        return new Outcome("c1", "annotation io.bpfcharge.maps", "/sys/fs/bpf/a", 12, "a", r, "/old", "/new", 4096, 35,
                exit, r == Result.MIGRATED ? "" : "why\nnot");
    }

    @Test
    void jsonLineHasTheDocumentedFields() throws Exception {
        String line = outcome(Result.MIGRATED, Exit.OK).json(Instant.parse("2026-01-02T03:04:05Z"));
        assertFalse(line.contains("\n"));
        JsonNode n = JSON.readTree(line);
        assertEquals(List.of("time", "container", "source", "pin", "map_id", "map_name", "result", "from", "to", "bytes",
                "millis", "exit", "message"), iterable(n));
        assertEquals("migrated", n.get("result").asText());
        assertEquals(12, n.get("map_id").asInt());
        JsonNode none = JSON.readTree(new Outcome("c1", "s", "/sys/fs/bpf/*", 0, "", Result.NO_MATCH, null, "/new",
                0, 0, Exit.OK, "no pin matches").json(Instant.now()));
        assertTrue(none.get("map_id").isNull() && none.get("from").isNull());
    }

    @Test
    void textLineIsOneLine() {
        assertEquals("bpfcharge hook: container c1: /sys/fs/bpf/a: map 12 (a): migrated 4096 bytes from /old to /new in 35 ms",
                outcome(Result.MIGRATED, Exit.OK).text());
        String refused = outcome(Result.REFUSED, Exit.REFUSED).text();
        assertTrue(refused.contains(": refused: why"), refused);
    }

    @Test
    void strictReturnsTheFirstFailureOnly() {
        var ok = outcome(Result.MIGRATED, Exit.OK);
        var nomatch = outcome(Result.NO_MATCH, Exit.OK);
        var refused = outcome(Result.REFUSED, Exit.REFUSED);
        var failed = outcome(Result.FAILED, Exit.ROLLED_BACK);
        assertEquals(0, Hook.exitCode(List.of(ok, refused, failed), false));
        assertEquals(6, Hook.exitCode(List.of(ok, refused, failed), true));
        assertEquals(8, Hook.exitCode(List.of(failed, refused), true));
        assertEquals(0, Hook.exitCode(List.of(ok, nomatch), true));
    }

    @Test
    void shippedHookFilesFollowOciHooks5() throws Exception {
        for (String file : List.of("bpfcharge.json", "bpfcharge-rules.json")) {
            JsonNode h = JSON.readTree(Path.of("hooks.d", file).toFile());
            assertEquals("1.0.0", h.get("version").asText());
            assertEquals(List.of("createRuntime"), List.of(h.get("stages").get(0).asText())); // before the program runs
            assertEquals(1, h.get("stages").size());
            assertTrue(h.get("hook").get("path").asText().startsWith("/"));
            assertEquals("hook", h.get("hook").get("args").get(1).asText());
        }
        JsonNode annotated = JSON.readTree(Path.of("hooks.d", "bpfcharge.json").toFile()).get("when").get("annotations");
        var key = annotated.fieldNames().next();
        assertTrue(Pattern.compile(key).matcher(Wanted.ANNOTATION).find());
        assertFalse(Pattern.compile(key).matcher("io.bpfcharge.mapsX").find());
        assertTrue(Pattern.compile(annotated.get(key).asText()).matcher("/sys/fs/bpf/x").matches());
        JsonNode rules = JSON.readTree(Path.of("hooks.d", "bpfcharge-rules.json").toFile());
        assertTrue(rules.get("when").get("always").asBoolean());
        assertEquals("--rules", rules.get("hook").get("args").get(2).asText());
    }

    private static List<String> iterable(JsonNode n) {
        List<String> names = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
