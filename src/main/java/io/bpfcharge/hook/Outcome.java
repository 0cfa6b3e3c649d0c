package io.bpfcharge.hook;

import io.bpfcharge.Mappers;
import io.bpfcharge.BpfchargeException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.migrate.Result;

import java.time.Instant;

/**
 * What the hook did for one pin pattern or map: the one log line it writes for it.
 * @param pin the real pin path, or the pattern when nothing matched or it was refused
 * @param mapId 0 when no map was reached
 * @param exit the documented code of a failure; OK otherwise
 */
public record Outcome(String container, String source, String pin, int mapId, String mapName, Result result,
                      String from, String to, long bytes, long millis, Exit exit, String message) {

    /** The same line with another result and message (the node agent's own results: a conflict, a dry run). */
    public Outcome with(Result r, String why) {
        return new Outcome(container, source, pin, mapId, mapName, r, from, to, bytes, millis, exit, why);
    }

    /** One JSON object (a JSON Lines record); field names are stable, see docs/hook.md, "Hook log". */
    public String json(Instant at) {
        ObjectNode n = Mappers.JSON.createObjectNode();
        n.put("time", at.toString()).put("container", container).put("source", source).put("pin", pin);
        if (mapId == 0) n.putNull("map_id").putNull("map_name");
        else n.put("map_id", mapId).put("map_name", mapName);
        n.put("result", result.jsonName());
        nullable(n, "from", from);
        nullable(n, "to", to);
        n.put("bytes", bytes).put("millis", millis).put("exit", exit.code).put("message", message);
        return n.toString();
    }

    /** One human line: "container ID: PIN: map N (name): RESULT ..., MESSAGE". */
    public String text() { return text("bpfcharge hook"); }

    /** The human line with another speaker ({@code who}: the node agent). */
    public String text(String who) {
        StringBuilder b = new StringBuilder(who).append(": container ").append(BpfchargeException.clip(container)).append(": ")
                .append(pin);
        if (mapId != 0) b.append(": map ").append(mapId).append(mapName.isEmpty() ? "" : " (" + mapName + ")");
        b.append(": ").append(result.words());
        if (result == Result.MIGRATED) b.append(' ').append(bytes).append(" bytes from ").append(from).append(" to ").append(to)
                .append(" in ").append(millis).append(" ms");
        if (message != null && !message.isEmpty()) b.append(": ").append(message);
        return b.toString();
    }

    private static void nullable(ObjectNode n, String field, String v) {
        if (v == null) n.putNull(field);
        else n.put(field, v);
    }
}
