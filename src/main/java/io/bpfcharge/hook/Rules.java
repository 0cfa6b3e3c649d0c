package io.bpfcharge.hook;

import io.bpfcharge.Mappers;
import io.bpfcharge.bpffs.PinPaths;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.Mappers;
import io.bpfcharge.Suggestions;
import io.bpfcharge.BpfchargeException.Exit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which pinned maps belong to which containers, for containers whose spec cannot carry the
 * {@code io.bpfcharge.maps} annotation. A YAML (or JSON) file, see docs/hook.md, "Rules file":
 * <pre>
 * rules:
 *   - match: {name: "cilium-agent", annotations: {"io.kubernetes.pod.namespace": "kube-system"}}
 *     pins: ["/sys/fs/bpf/tc/globals/cilium_*"]
 * </pre>
 * Every criterion of a rule's {@code match} must hold; every matching rule contributes its pins.
 */
public record Rules(Path file, List<Rule> rules) {
    static final int MAX_BYTES = 1 << 20;

    /**
     * Annotations runtimes use for the container's name, first present wins: containerd's CRI
     * plugin, CRI-O, nerdctl.
     */
    static final List<String> NAME_ANNOTATIONS = List.of("io.kubernetes.cri.container-name",
            "io.kubernetes.container.name", "nerdctl/name");

    /**
     * @param number 1-based position in the file, for log lines
     * @param pins what a matching container claims
     * @param annotationPins what a matching container may claim with its own io.bpfcharge.maps annotation
     */
    public record Rule(int number, Glob id, Glob name, Map<String, Glob> annotations, List<String> pins,
                       List<String> annotationPins) {
        boolean matches(OciState s) {
            if (id != null && !id.matches(s.id())) return false;
            if (name != null && !name.matches(nameOf(s))) return false;
            for (var a : annotations.entrySet())
                if (!a.getValue().matches(s.annotations().get(a.getKey()))) return false;
            return true;
        }
    }

    public Rules {
        rules = List.copyOf(rules);
    }

    /** The container's name as its runtime annotated it, or null. */
    static String nameOf(OciState s) {
        for (String key : NAME_ANNOTATIONS) {
            String v = s.annotations().get(key);
            if (v != null) return v;
        }
        return null;
    }

    /** Rules that apply to this container, in file order. */
    public List<Rule> matching(OciState s) {
        return rules.stream().filter(r -> r.matches(s)).toList();
    }

    // The file's shape; unknown keys are errors so that a typo never silently matches nothing.
    record FileDto(List<RuleDto> rules) {}

    record RuleDto(MatchDto match, List<String> pins,
                   @com.fasterxml.jackson.annotation.JsonProperty("annotation_pins") List<String> annotationPins) {}

    record MatchDto(String id, String name, Map<String, String> annotations) {}

    /**
     * Loads a rules file. It decides what bpfcharge changes as root, so it must be owned by root
     * and not writable by group or others.
     */
    public static Rules load(Path file) {
        checkOwnership(file);
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "cannot read rules file " + file + ": " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) throw bad(file, "is larger than " + MAX_BYTES + " bytes");
        return parse(file, bytes);
    }

    static Rules parse(Path file, byte[] yaml) {
        // Syntax first, then shape: a YAML error and a wrong key are different mistakes.
        com.fasterxml.jackson.databind.JsonNode tree;
        try {
            tree = Mappers.YAML.readTree(yaml);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw bad(file, "is not valid YAML (" + Mappers.describe(e) + ")");
        } catch (IOException e) {
            throw bad(file, "cannot be read (" + e.getMessage().split("\n")[0] + ")");
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) throw bad(file, "has no \"rules:\" list");
        if (!tree.isObject()) throw bad(file, "must be a mapping with a \"rules:\" list at the top, not " + kind(tree));
        FileDto dto;
        try {
            dto = Mappers.YAML.treeToValue(tree, FileDto.class);
        } catch (UnrecognizedPropertyException e) {
            throw bad(file, "has an unknown key \"" + e.getPropertyName() + "\" at " + path(e.getPath().subList(0, e.getPath().size() - 1))
                    + Suggestions.closest(e.getPropertyName(), KEYS).map(k -> ": did you mean \"" + k + "\"?")
                    .orElse(" (known: " + String.join(", ", KEYS) + ")"));
        } catch (JsonMappingException e) {
            throw bad(file, "has a wrong type at " + path(e.getPath()) + ": " + expected(e));
        } catch (IOException e) {
            throw bad(file, "cannot be read as rules (" + e.getMessage().split("\n")[0] + ")");
        }
        if (dto == null || dto.rules() == null) throw bad(file, "has no \"rules:\" list");
        List<Rule> rules = new ArrayList<>();
        for (int i = 0; i < dto.rules().size(); i++) {
            RuleDto r = dto.rules().get(i);
            int n = i + 1;
            if (r == null) throw bad(file, "has an empty rule " + n);
            MatchDto m = r.match();
            if (m == null || (m.id() == null && m.name() == null && (m.annotations() == null || m.annotations().isEmpty())))
                throw bad(file, "rule " + n + " has no match criterion (id, name or annotations): it would match every container");
            List<String> pins = r.pins() == null ? List.of() : r.pins();
            List<String> allowed = r.annotationPins() == null ? List.of() : r.annotationPins();
            if (pins.isEmpty() && allowed.isEmpty())
                throw bad(file, "rule " + n + " has neither a \"pins:\" nor an \"annotation_pins:\" list of bpffs paths or globs");
            if (pins.stream().anyMatch(p -> p == null || p.isBlank()) || allowed.stream().anyMatch(p -> p == null || p.isBlank()))
                throw bad(file, "rule " + n + " has an empty pin path");
            Map<String, Glob> annotations = new LinkedHashMap<>();
            if (m.annotations() != null) m.annotations().forEach((k, v) -> {
                if (v == null) throw bad(file, "rule " + n + " annotation \"" + k + "\" has no value (use \"*\" for any)");
                annotations.put(k, Glob.of(v));
            });
            for (String pin : java.util.stream.Stream.concat(pins.stream(), allowed.stream()).toList()) {
                String problem = PinPaths.syntaxProblem(pin);
                if (problem != null) throw bad(file, "rule " + n + ": pin path " + BpfchargeException.clip(pin) + " " + problem);
            }
            rules.add(new Rule(n, m.id() == null ? null : Glob.of(m.id()), m.name() == null ? null : Glob.of(m.name()),
                    Map.copyOf(annotations), List.copyOf(pins), List.copyOf(allowed)));
        }
        return new Rules(file, rules);
    }

    static void checkOwnership(Path file) {
        int uid;
        Set<PosixFilePermission> perms;
        try {
            uid = (Integer) Files.getAttribute(file, "unix:uid");
            perms = Files.getPosixFilePermissions(file);
        } catch (NoSuchFileException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "rules file " + file + " does not exist: give an existing --rules FILE");
        } catch (IOException e) {
            throw new BpfchargeException(Exit.NOT_FOUND, "cannot read rules file " + file + ": " + e.getMessage());
        }
        // Before the ownership checks: their advice (chmod, chown) would be wrong, even harmful, for /tmp or /dev/null.
        if (!Files.isRegularFile(file))
            throw new BpfchargeException(Exit.USAGE, "rules file " + file + " is " + (Files.isDirectory(file) ? "a directory"
                    : "not a regular file") + ": give the path of a rules file (YAML or JSON, docs/hook.md, \"Rules file\")");
        if (uid != 0)
            throw new BpfchargeException(Exit.REFUSED, "rules file " + file + " is owned by uid " + uid
                    + ", not root: it decides what bpfcharge changes as root; chown root " + file);
        if (perms.contains(PosixFilePermission.GROUP_WRITE) || perms.contains(PosixFilePermission.OTHERS_WRITE))
            throw new BpfchargeException(Exit.REFUSED, "rules file " + file + " is writable by group or others: chmod go-w " + file);
    }

    private static final List<String> KEYS = List.of("rules", "match", "id", "name", "annotations", "pins", "annotation_pins");

    private static String kind(com.fasterxml.jackson.databind.JsonNode n) {
        return n.isArray() ? "a list" : n.isTextual() ? "a string" : n.isNumber() ? "a number" : n.isBoolean() ? "true or false" : "a " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }

    /** What the file's shape wants where a wrong type is, in YAML words rather than Java's. */
    private static String expected(JsonMappingException e) {
        Class<?> t = e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException m ? m.getTargetType() : null;
        if (t == null) return e.getOriginalMessage().split("\n")[0];
        if (java.util.Collection.class.isAssignableFrom(t)) return "expected a list";
        if (t == String.class) return "expected a string";
        return "expected a mapping";
    }

    private static String path(List<JsonMappingException.Reference> refs) {
        StringBuilder b = new StringBuilder();
        for (var ref : refs) {
            if (ref.getIndex() >= 0) b.append('[').append(ref.getIndex() + 1).append(']');
            else if (ref.getFieldName() != null) b.append(b.isEmpty() ? "" : ".").append(ref.getFieldName());
        }
        return b.isEmpty() ? "the top level" : b.toString();
    }

    private static BpfchargeException bad(Path file, String what) {
        return new BpfchargeException(Exit.USAGE, "rules file " + file + " " + what + ": see docs/hook.md, \"Rules file\"");
    }
}
