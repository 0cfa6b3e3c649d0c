package io.bpfcharge.hook;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RulesTest {
    static final Path FILE = Path.of("/etc/bpfcharge/rules.yaml");

    static final String EXAMPLE = """
            # Cilium's agent keeps its maps when it restarts.
            rules:
              - match:
                  name: cilium-agent
                  annotations:
                    io.kubernetes.pod.namespace: kube-system
                pins:
                  - /sys/fs/bpf/tc/globals/cilium_*
              - match: {id: "lb-*"}
                pins: ["/sys/fs/bpf/lb/*", "/sys/fs/bpf/lb/conf"]
              - match:
                  annotations: {team: "net*", tier: "?"}
                pins: [/sys/fs/bpf/net/**]
            """;

    static Rules rules(String yaml) {
        return Rules.parse(FILE, yaml.getBytes(StandardCharsets.UTF_8));
    }

    static OciState state(String id, Map<String, String> annotations) {
        return new OciState("1.0.2", id, "running", 42, "/b", annotations);
    }

    static List<Integer> matched(Rules r, OciState s) {
        return r.matching(s).stream().map(Rules.Rule::number).toList();
    }

    @Test
    void parsesTheDocumentedExample() {
        Rules r = rules(EXAMPLE);
        assertEquals(3, r.rules().size());
        assertEquals(List.of("/sys/fs/bpf/lb/*", "/sys/fs/bpf/lb/conf"), r.rules().get(1).pins());
    }

    @Test
    void nameComesFromTheRuntimesNameAnnotation() {
        Rules r = rules(EXAMPLE);
        var cri = Map.of("io.kubernetes.cri.container-name", "cilium-agent", "io.kubernetes.pod.namespace", "kube-system");
        var crio = Map.of("io.kubernetes.container.name", "cilium-agent", "io.kubernetes.pod.namespace", "kube-system");
        assertEquals(List.of(1), matched(r, state("abc", cri)));
        assertEquals(List.of(1), matched(r, state("abc", crio)));
        // Every criterion must hold: right name, wrong namespace.
        assertEquals(List.of(), matched(r, state("abc", Map.of("io.kubernetes.cri.container-name", "cilium-agent",
                "io.kubernetes.pod.namespace", "default"))));
        // A name glob without wildcards is exact.
        assertEquals(List.of(), matched(r, state("abc", Map.of("io.kubernetes.cri.container-name", "cilium-agent2",
                "io.kubernetes.pod.namespace", "kube-system"))));
        // No name annotation at all: a name rule cannot match.
        assertEquals(List.of(), matched(r, state("abc", Map.of("io.kubernetes.pod.namespace", "kube-system"))));
    }

    @Test
    void idAndAnnotationGlobs() {
        Rules r = rules(EXAMPLE);
        assertEquals(List.of(2), matched(r, state("lb-7f3a", Map.of())));
        assertEquals(List.of(), matched(r, state("xlb-7f3a", Map.of())));
        assertEquals(List.of(3), matched(r, state("x", Map.of("team", "network", "tier", "1"))));
        assertEquals(List.of(), matched(r, state("x", Map.of("team", "network", "tier", "12"))));
        assertEquals(List.of(), matched(r, state("x", Map.of("team", "network"))));
        assertEquals(List.of(2, 3), matched(r, state("lb-1", Map.of("team", "net", "tier", "a"))));
    }

    @Test
    void globMetacharactersOtherThanStarAndQuestionAreLiteral() {
        assertTrue(Glob.of("a.b[1]+").matches("a.b[1]+"));
        assertFalse(Glob.of("a.b").matches("axb"));
        assertTrue(Glob.of("*").matches(""));
        assertFalse(Glob.of("*").matches(null));
        assertTrue(Glob.of("x*y?z").matches("x-long-y1z"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "'rules: [{match: {id: a}, pins: [/sys/fs/bpf/x]}, {match: {}, pins: [/sys/fs/bpf/y]}]' | rule 2 has no match criterion",
            "'rules: [{pins: [/sys/fs/bpf/y]}]'                           | rule 1 has no match criterion",
            "'rules: [{match: {id: a}}]'                                 | rule 1 has neither a \"pins:\" nor",
            "'rules: [{match: {id: a}, pins: []}]'                       | rule 1 has neither a \"pins:\" nor",
            "'rules: [{match: {id: a}, pins: [sys/fs/bpf/x]}]'           | rule 1: pin path sys/fs/bpf/x is not an absolute path",
            "'rules: [{match: {id: a}, annotation_pins: [sys/x]}]'       | rule 1: pin path sys/x is not an absolute path",
            "'rules: [{match: {id: a}, annotation_pins: [\"\"]}]'       | rule 1 has an empty pin path",
            "'rules: [{match: {id: a}, pins: [/sys/fs/bpf/../../etc/x]}]'| contains a \"..\" component",
            "'rules: [{match: {id: a, nmae: b}, pins: [/sys/fs/bpf/x]}]' | unknown key \"nmae\" at rules[1].match",
            "'rulez: []'                                                  | unknown key \"rulez\"",
            "'rules: {match: 1}'                                          | has a wrong type at rules",
            "'rules: [{match: {id: [a]}, pins: [/sys/fs/bpf/x]}]'        | has a wrong type at rules[1].match.id",
            "'rules: [{match: {annotations: {a: null}}, pins: [/sys/fs/bpf/x]}]' | annotation \"a\" has no value",
            "'rules: [{match: {id: a}, pins: [/sys/fs/bpf/x]'            | is not valid YAML",
            "'# nothing'                                                  | has no \"rules:\" list",
            "'rules: [{match: {nmae: b}, pins: [/sys/fs/bpf/x]}]'        | unknown key \"nmae\" at rules[1].match: did you mean \"name\"?",
            "'rules: [{match: {name: web, name: db}, pins: [/sys/fs/bpf/x]}]' | is not valid YAML (key 'name' given twice, at line 1",
            "'- match: {name: web}'                                       | must be a mapping with a \"rules:\" list at the top, not a list",
            "'rules: [{match: {id: a}, pins: /sys/fs/bpf/x}]'             | has a wrong type at rules[1].pins: expected a list",
    })
    void badRulesAreOneClearLine(String yaml, String expected) {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> rules(yaml));
        assertEquals(Exit.USAGE, e.exit());
        assertTrue(e.getMessage().startsWith("rules file /etc/bpfcharge/rules.yaml "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    /** A tab where YAML wants spaces: what is wrong, and where, rather than only "while scanning for the next token". */
    @Test
    void aTabIsNamedWithItsLineAndColumn() {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> rules("rules:\n\t- match: {id: a}\n"));
        assertTrue(e.getMessage().contains("found character '\\t(TAB)' that cannot start any token"), e.getMessage());
        assertTrue(e.getMessage().contains("at line 2, column 1"), e.getMessage());
    }

    /** Not a file at all: said as such, never "chmod go-w /tmp". */
    @Test
    void aDirectoryOrADeviceIsNotARulesFile(@TempDir Path dir) {
        for (Path p : List.of(dir, Path.of("/dev/null"))) {
            BpfchargeException e = assertThrows(BpfchargeException.class, () -> Rules.load(p));
            assertEquals(Exit.USAGE, e.exit(), e.getMessage());
            assertTrue(e.getMessage().contains(p.equals(dir) ? "is a directory" : "is not a regular file"), e.getMessage());
            assertFalse(e.getMessage().contains("chmod"), e.getMessage());
        }
    }

    @Test
    void missingFileIsNotFound(@TempDir Path dir) {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> Rules.load(dir.resolve("none.yaml")));
        assertEquals(Exit.NOT_FOUND, e.exit());
    }

    /** Ownership needs root to set up (chown); the check itself is pure file metadata. */
    @Test
    @KernelTest
    void onlyRootOwnedFilesNotWritableByOthersAreLoaded(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("rules.yaml");
        Files.writeString(f, EXAMPLE);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals(3, Rules.load(f).rules().size());

        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw-r--"));
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> Rules.load(f));
        assertEquals(Exit.REFUSED, e.exit());
        assertTrue(e.getMessage().contains("writable by group or others: chmod go-w"), e.getMessage());

        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r---w-"));
        assertEquals(Exit.REFUSED, assertThrows(BpfchargeException.class, () -> Rules.load(f)).exit());

        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setAttribute(f, "unix:uid", 65534);
        e = assertThrows(BpfchargeException.class, () -> Rules.load(f));
        assertEquals(Exit.REFUSED, e.exit());
        assertTrue(e.getMessage().contains("owned by uid 65534, not root"), e.getMessage());
    }

    @Test
    void wantedJoinsAnnotationAndRulesOncePerPattern() {
        Rules r = rules(EXAMPLE);
        OciState s = state("lb-9", Map.of(Wanted.ANNOTATION, " /sys/fs/bpf/lb/conf ,\n/sys/fs/bpf/own,, "));
        List<Wanted> w = Wanted.of(s, r);
        assertEquals(List.of("/sys/fs/bpf/lb/conf", "/sys/fs/bpf/own", "/sys/fs/bpf/lb/*"),
                w.stream().map(Wanted::pattern).toList());
        // A pattern both claim is the rule's (the node's word, not confined); the annotation's own is confined.
        assertEquals("rule 2 of /etc/bpfcharge/rules.yaml", w.get(0).source());
        assertFalse(w.get(0).annotation());
        assertEquals("annotation io.bpfcharge.maps", w.get(1).source());
        assertTrue(w.get(1).annotation());
        assertEquals("rule 2 of /etc/bpfcharge/rules.yaml", w.get(2).source());
        assertEquals(List.of(), Wanted.of(state("x", Map.of()), null));
    }

    @Test
    void tooManyAnnotatedPatternsAreRefused() {
        String many = String.join(",", java.util.Collections.nCopies(Wanted.MAX_PATTERNS + 1, "/sys/fs/bpf/x"));
        BpfchargeException e = assertThrows(BpfchargeException.class,
                () -> Wanted.of(state("x", Map.of(Wanted.ANNOTATION, many)), null));
        assertEquals(Exit.REFUSED, e.exit());
        assertTrue(e.getMessage().contains("lists 257 pin patterns, more than 256"), e.getMessage());
    }
}
