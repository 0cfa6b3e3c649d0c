package io.bpfcharge.hook;

import io.bpfcharge.Mappers;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonNode;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The container state an OCI runtime writes on a hook's stdin (runtime-spec "State"). Only the
 * fields bpfcharge uses are kept; unknown fields (e.g. crun's "root") are ignored.
 * @param pid the container's init process, in the runtime's pid namespace
 */
public record OciState(String ociVersion, String id, String status, long pid, String bundle,
                       Map<String, String> annotations) {
    /** A runtime's state is a few kB; more than this is not a state document. */
    public static final int MAX_BYTES = 1 << 20;

    private static final String WHAT = "OCI state on stdin";
    private static final String FIX = ": bpfcharge hook must be run by an OCI runtime (hooks.d/bpfcharge.json), "
            + "which writes the container state JSON on stdin";

    public OciState {
        annotations = Map.copyOf(annotations);
    }

    /** Reads at most {@link #MAX_BYTES} from {@code in} and parses them; bad input is one clear exception. */
    public static OciState read(InputStream in) {
        byte[] bytes;
        try {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (IOException e) {
            throw bad("cannot be read (" + e.getMessage() + ")");
        }
        if (bytes.length > MAX_BYTES) throw bad("is larger than " + MAX_BYTES + " bytes");
        return parse(new String(bytes, StandardCharsets.UTF_8));
    }

    public static OciState parse(String json) {
        if (json.isBlank()) throw bad("is empty");
        JsonNode root;
        try {
            root = Mappers.JSON.readTree(json);
        } catch (JsonEOFException e) {
            throw bad("is truncated (" + where(e) + ")");
        } catch (JsonParseException e) {
            throw bad("is not valid JSON (" + e.getOriginalMessage() + ", " + where(e) + ")");
        } catch (JsonProcessingException e) {
            throw bad("is not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) throw bad("is not a JSON object");
        String id = string(root, "id", true);
        if (id.isEmpty()) throw bad("has an empty \"id\"");
        JsonNode pid = root.get("pid");
        if (pid == null || pid.isNull()) throw bad("has no \"pid\" (the hook needs a started container)");
        if (!pid.isIntegralNumber() || !pid.canConvertToLong() || pid.asLong() <= 0 || pid.asLong() > Integer.MAX_VALUE)
            throw bad("has \"pid\" " + BpfchargeException.clip(pid.toString()) + ", not a positive process id");
        Map<String, String> annotations = new LinkedHashMap<>();
        JsonNode a = root.get("annotations");
        if (a != null && !a.isNull()) {
            if (!a.isObject()) throw bad("has \"annotations\" of type " + type(a) + ", not an object");
            for (var e : a.properties()) {
                if (!e.getValue().isTextual())
                    throw bad("has annotation \"" + BpfchargeException.clip(e.getKey()) + "\" of type " + type(e.getValue()) + ", not a string");
                annotations.put(e.getKey(), e.getValue().textValue());
            }
        }
        return new OciState(string(root, "ociVersion", false), id, string(root, "status", false), pid.asLong(),
                string(root, "bundle", false), annotations);
    }

    private static String string(JsonNode root, String field, boolean required) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) throw bad("has no \"" + field + "\"");
            return "";
        }
        if (!n.isTextual()) throw bad("has \"" + field + "\" of type " + type(n) + ", not a string");
        return n.textValue();
    }

    private static String type(JsonNode n) { return n.getNodeType().name().toLowerCase(); }

    private static String where(JsonProcessingException e) {
        var loc = e.getLocation();
        return loc == null ? "at the end" : "line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }

    /** Untrusted text goes into one log line: keep it short and on one line. */
    private static BpfchargeException bad(String what) {
        return new BpfchargeException(Exit.USAGE, WHAT + " " + what + FIX);
    }
}
