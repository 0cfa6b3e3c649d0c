package io.bpfcharge.hook;

import io.bpfcharge.inventory.MapRecord;
import io.bpfcharge.inventory.Memcg;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;

/**
 * What the io.bpfcharge.maps annotation may claim for one container. Whoever creates a container sets its
 * annotations (in Kubernetes, anyone who may create a pod), and a claimed map's memory would be charged to, and
 * limited by, that container's memcg, so the node confines the annotation (docs/hook.md, "Who may claim a pin"):
 * <ul>
 * <li>with a rules file, to the pins that match an {@code annotation_pins} glob of a rule matching the
 *     container; nothing when no such rule matches;</li>
 * <li>without one, to maps no running task pays for elsewhere: charged to the container's own memcg, to one of
 *     its ancestors (where the kernel moves a removed predecessor's charge), or to a memcg without tasks or
 *     removed (a predecessor that exited). A map charged where tasks run (another container, a host service) or
 *     to no memcg (made from the root cgroup) stays where it is.</li>
 * </ul>
 * Claims from the rules file's own {@code pins} are the node's word and are not confined.
 */
sealed interface AnnotationScope {
    /** Null when the annotation may claim the pin at this real path, else why not. */
    String pinRefusal(Path pin);

    /** Null when the annotation may claim this map (as the hook's scan saw it), else why not. */
    String mapRefusal(MapRecord map, Hook.Target target);

    static AnnotationScope of(Rules rules, OciState state) {
        if (rules == null) return new HandOver();
        List<String> globs = rules.matching(state).stream().flatMap(r -> r.annotationPins().stream()).distinct().toList();
        return new Confined(rules.file(), globs, globs.stream()
                .map(g -> FileSystems.getDefault().getPathMatcher("glob:" + g)).toList());
    }

    /** A rules file exists: the annotation may claim only what the rules matching the container allow it. */
    record Confined(Path file, List<String> globs, List<PathMatcher> matchers) implements AnnotationScope {
        @Override
        public String pinRefusal(Path pin) {
            if (matchers.stream().anyMatch(m -> m.matches(pin))) return null;
            return pin + " is not among the pins the annotation may claim for this container (the annotation_pins of "
                    + "the rules in " + file + " that match it: " + (globs.isEmpty() ? "none" : String.join(", ", globs))
                    + "): add it to annotation_pins of a rule matching this container, or claim it with pins";
        }

        @Override
        public String mapRefusal(MapRecord map, Hook.Target target) { return null; }
    }

    /** No rules file: the annotation may only take over a charge that no running task pays for. */
    record HandOver() implements AnnotationScope {
        private static final String FIX = ": without a rules file an annotation may only take over a charge no "
                + "running task pays for (an exited or removed predecessor's); to claim this one, allow it with "
                + "annotation_pins in a rules file (--rules)";

        @Override
        public String pinRefusal(Path pin) { return null; }

        @Override
        public String mapRefusal(MapRecord map, Hook.Target target) {
            if (map == null) return "the pin was made after the hook's scan, so who pays for its map is unknown" + FIX;
            Memcg m = map.memcg();
            String what = "map " + map.id() + (map.info().name().isEmpty() ? "" : " (" + map.info().name() + ")");
            if (m == null) return what + " is charged to no memory cgroup (made from the root cgroup)" + FIX;
            if (m.id() == target.id() || m.stranded() || isAncestor(m.path(), target.path())) return null;
            return what + " is charged to " + m.path() + ", where tasks run" + FIX;
        }

        private static boolean isAncestor(String ancestor, String path) {
            return ancestor.equals("/") || path.startsWith(ancestor + "/");
        }
    }
}
