package io.bpfcharge.hook;

import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;
import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who may claim a pin with the annotation: decided from the rules, the container and the scan alone. */
class AnnotationScopeTest {
    static final Hook.Target TARGET = new Hook.Target("/kubepods/pod1/web-2", 500);

    static MapRecord charged(Memcg memcg) {
        return new MapRecord(new MapInfo(7, MapType.HASH, "conf", 8, 8, 64, 0, 0, 0, 0, 0, 0, 0), 4096, memcg,
                List.of("/sys/fs/bpf/app/conf"), List.of(), List.of(), List.of());
    }

    static AnnotationScope scope(String yaml, String id, Map<String, String> annotations) {
        Rules rules = yaml == null ? null : Rules.parse(Path.of("/etc/bpfcharge/rules.yaml"), yaml.getBytes(StandardCharsets.UTF_8));
        return AnnotationScope.of(rules, new OciState("1.0.2", id, "creating", 42, "/b", annotations));
    }

    @Test
    void withoutRulesOnlyAChargeNoRunningTaskPaysForMayBeTakenOver() {
        AnnotationScope s = scope(null, "web-2", Map.of());
        assertNull(s.pinRefusal(Path.of("/sys/fs/bpf/anything")), "paths are not confined without rules");
        // A predecessor that exited (empty), was removed (offline), or whose charge the kernel moved up.
        assertNull(s.mapRefusal(charged(new Memcg(400, "/kubepods/pod1/web-1", true, false)), TARGET));
        assertNull(s.mapRefusal(charged(new Memcg(401, "/kubepods/pod1/web-2", false, false)), TARGET));
        assertNull(s.mapRefusal(charged(new Memcg(300, "/kubepods/pod1", true, true)), TARGET));
        assertNull(s.mapRefusal(charged(new Memcg(500, "/kubepods/pod1/web-2", true, true)), TARGET));
        // A running tenant's or service's map stays where it is; so does one charged nowhere (the host's).
        String other = s.mapRefusal(charged(new Memcg(600, "/kubepods/pod2/db", true, true)), TARGET);
        assertTrue(other.contains("charged to /kubepods/pod2/db, where tasks run") && other.contains("annotation_pins"), other);
        String sibling = s.mapRefusal(charged(new Memcg(601, "/kubepods/pod1/web-2x", true, true)), TARGET);
        assertTrue(sibling != null, "a path prefix is no ancestor");
        assertTrue(s.mapRefusal(charged(null), TARGET).contains("charged to no memory cgroup"));
        assertTrue(s.mapRefusal(null, TARGET).contains("after the hook's scan"));
    }

    static final String RULES = """
            rules:
              - match: {annotations: {io.kubernetes.pod.namespace: team-a}}
                annotation_pins: ["/sys/fs/bpf/team-a/**"]
              - match: {id: "lb-*"}
                pins: ["/sys/fs/bpf/lb/conf"]
                annotation_pins: ["/sys/fs/bpf/lb/*"]
            """;

    @Test
    void withRulesOnlyTheAnnotationPinsOfMatchingRules() {
        AnnotationScope teamA = scope(RULES, "x", Map.of("io.kubernetes.pod.namespace", "team-a"));
        assertNull(teamA.pinRefusal(Path.of("/sys/fs/bpf/team-a/app/counts")));
        String out = teamA.pinRefusal(Path.of("/sys/fs/bpf/team-b/counts"));
        assertTrue(out.contains("/sys/fs/bpf/team-b/counts is not among the pins") && out.contains("/sys/fs/bpf/team-a/**"), out);
        // The rules are the node's word: no "running payer" check on top.
        assertNull(teamA.mapRefusal(charged(new Memcg(600, "/kubepods/pod2/db", true, true)), TARGET));

        AnnotationScope lb = scope(RULES, "lb-1", Map.of());
        assertNull(lb.pinRefusal(Path.of("/sys/fs/bpf/lb/x")));
        assertTrue(lb.pinRefusal(Path.of("/sys/fs/bpf/lb/sub/x")) != null, "* stays within one directory");

        // A rules file exists but no rule allows this container anything: nothing.
        AnnotationScope none = scope(RULES, "other", Map.of("io.kubernetes.pod.namespace", "team-b"));
        String n = none.pinRefusal(Path.of("/sys/fs/bpf/team-a/app/counts"));
        assertTrue(n.contains("that match it: none"), n);
        assertTrue(scope("rules: []", "x", Map.of()).pinRefusal(Path.of("/sys/fs/bpf/a")) != null);
    }

    @Test
    void alreadyChargedComparesCgroupIdsNotPaths() {
        // A restart (podman restart) may make a new cgroup at the old path: same path, another id, not there yet.
        assertFalse(Hook.alreadyThere(charged(new Memcg(499, TARGET.path(), false, false)), TARGET));
        assertTrue(Hook.alreadyThere(charged(new Memcg(500, TARGET.path(), true, true)), TARGET));
        assertFalse(Hook.alreadyThere(charged(null), TARGET));
    }
}
