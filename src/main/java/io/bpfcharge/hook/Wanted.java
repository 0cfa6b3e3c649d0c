package io.bpfcharge.hook;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One pin path or glob a container claims, and who said so (for the log).
 * @param source "annotation io.bpfcharge.maps" or "rule N of FILE"
 * @param annotation claimed by the container's own annotation, so confined by {@link AnnotationScope}
 */
record Wanted(String pattern, String source, boolean annotation) {
    /** The annotation that lists a container's pins: paths or globs separated by commas or newlines. */
    static final String ANNOTATION = "io.bpfcharge.maps";
    /** Each pattern costs a bpffs walk; a container listing more is a mistake or an attack. */
    static final int MAX_PATTERNS = 256;

    /** The annotation's patterns, then every matching rule's, each pattern once (a rule wins over the annotation). */
    static List<Wanted> of(OciState state, Rules rules) {
        Map<String, Wanted> wanted = new LinkedHashMap<>();
        String annotation = state.annotations().get(ANNOTATION);
        if (annotation != null) {
            List<String> patterns = split(annotation);
            if (patterns.size() > MAX_PATTERNS)
                throw new BpfchargeException(Exit.REFUSED, "annotation " + ANNOTATION + " lists " + patterns.size()
                        + " pin patterns, more than " + MAX_PATTERNS + ": use globs (e.g. /sys/fs/bpf/app/*)");
            for (String p : patterns) wanted.putIfAbsent(p, new Wanted(p, "annotation " + ANNOTATION, true));
        }
        if (rules != null)
            for (Rules.Rule r : rules.matching(state))
                for (String p : r.pins()) // the node's word beats the container's own for one pattern
                    wanted.merge(p, new Wanted(p, "rule " + r.number() + " of " + rules.file(), false),
                            (first, rule) -> first.annotation() ? rule : first);
        return List.copyOf(wanted.values());
    }

    static List<String> split(String annotation) {
        List<String> out = new ArrayList<>();
        for (String p : annotation.split("[,\n]")) {
            String t = p.strip();
            if (!t.isEmpty()) out.add(t);
        }
        return out;
    }
}
