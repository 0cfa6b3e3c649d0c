package io.bpfcharge;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

/**
 * The two Jackson mappers, configured once: JSON (bpfcharge's own files, the OCI state on stdin, the CLI's
 * output) and YAML (the files an operator writes: the web config and the hook's rules). Both are strict where a
 * lenient reading would silently pick one meaning: a key given twice, trailing garbage, NaN, unknown keys.
 */
public final class Mappers {
    private Mappers() {}

    /** Nothing bpfcharge reads nests deeper; a hostile OCI state or rules file must not cost a deep recursion. */
    private static final StreamReadConstraints LIMITS = StreamReadConstraints.builder().maxNestingDepth(32).build();

    /**
     * ASCII output (stdout's charset follows the locale, and under C/POSIX a non-ASCII cgroup name would print as
     * '?'); files of older versions may carry fields this one does not know, so records opt in to
     * {@code FAIL_ON_UNKNOWN_PROPERTIES} where the reader is a person's file, not ours.
     */
    public static final ObjectMapper JSON = JsonMapper.builder(com.fasterxml.jackson.core.JsonFactory.builder()
                    .streamReadConstraints(LIMITS).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .enable(JsonWriteFeature.ESCAPE_NON_ASCII)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    public static final ObjectMapper YAML = YAMLMapper.builder(YAMLFactory.builder().streamReadConstraints(LIMITS).build())
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    /**
     * A parse error as a person reads it: Jackson's first line and where ("line 3, column 1"), without the
     * source excerpt and Java names that follow.
     */
    public static String describe(JsonProcessingException e) {
        String msg = String.valueOf(e.getOriginalMessage()).strip();
        // SnakeYAML's message is "while scanning ...\nfound character '\t(TAB)' that cannot start any token ...":
        // the second line is the one that names the mistake.
        String[] lines = msg.split("\n");
        String what = lines.length > 1 && lines[0].startsWith("while ") ? lines[1].strip() : lines[0].strip();
        // Jackson's "Duplicate field 'name'" is, in a YAML or JSON file, a key given twice: one would be ignored.
        if (what.startsWith("Duplicate field ")) what = "key " + what.substring("Duplicate field ".length()) + " given twice";
        // SnakeYAML marks the problem after the context ("while scanning" ends a line earlier): its last mark wins.
        var marks = java.util.regex.Pattern.compile("line (\\d+), column (\\d+)").matcher(msg);
        String where = null;
        while (marks.find()) where = "line " + marks.group(1) + ", column " + marks.group(2);
        var at = e.getLocation();
        if (where == null && at != null && at.getLineNr() > 0) where = "line " + at.getLineNr() + ", column " + at.getColumnNr();
        return where == null ? what : what + ", at " + where;
    }
}
