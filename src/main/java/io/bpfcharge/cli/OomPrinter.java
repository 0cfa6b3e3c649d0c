package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfcharge.oom.Leaf;
import io.bpfcharge.oom.Ranking;
import io.bpfcharge.oom.Reserve;

import java.io.IOException;
import java.io.PrintWriter;

/**
 * `oom`: one row, or one JSON object, per leaf cgroup, in the policy's order, where the victim changes, and each
 * limited cgroup whose surviving BPF bytes leave its processes less than the reserve (OOM-killed over and over).
 */
final class OomPrinter implements Printer<Ranking> {
    private final int columns;
    private final Reserve reserve;

    OomPrinter(int columns, Reserve reserve) {
        this.columns = columns;
        this.reserve = reserve;
    }

    @Override
    public void plain(PrintWriter out, Ranking r) {
        Table t = new Table(">RANK", ">NET-RANK", "CGROUP", ">SCORE", ">BPF", ">SURVIVES-KILL", ">NET-SCORE", "VICTIM");
        for (Ranking.Row row : r.rows()) {
            Leaf l = row.leaf();
            t.row(rank(row.rank()), rank(row.adjustedRank()), Table.Clip.shortPath(l.path()), size(row.figure()), Table.bytes(l.bpfBytes()),
                    Table.bytes(l.survivingKillBytes()), size(row.adjusted()), mark(row));
        }
        t.elastic("CGROUP", Table.Clip.PATH).fit(columns).print(out);
        out.println(summary(r));
        for (Ranking.Row row : r.rows()) if (row.leaf().repeatedOom(reserve)) out.println(repeated(row.leaf()));
    }

    /** The one line for a cgroup that no kill can make enough room in. */
    private String repeated(Leaf l) {
        long limit = l.limit().orElseThrow(), room = l.killRoom().orElseThrow();
        return "repeated OOM: " + Table.Clip.shortPath(l.path()) + " is OOM-killed over and over once its processes need more than "
                + Table.bytes(room) + ": a kill frees at most " + Table.bytes(room) + " of its " + Table.bytes(limit) + " limit ("
                + Reserve.killRoomPercent(limit, l.survivingKillBytes()) + "%, below the " + reserve.percent() + "% reserve), "
                + Table.bytes(l.survivingKillBytes()) + " of BPF bytes survive the kill";
    }

    private static String rank(int rank) { return rank == 0 ? "-" : Integer.toString(rank); }

    /** Scores with an oom_score_adj can be negative; the rest are bytes. */
    private static String size(Long v) { return v == null ? "-" : v < 0 ? "-" + Table.bytes(-v) : Table.bytes(v); }

    private static String mark(Ranking.Row row) {
        if (row.victim() && row.adjustedVictim()) return "<- victim";
        if (row.victim()) return "<- victim now";
        return row.adjustedVictim() ? "<- net victim" : "";
    }

    static String summary(Ranking r) {
        String policy = r.policy().label();
        if (r.victim().isEmpty()) return "no cgroup " + policy + " would kill";
        String now = Table.Clip.shortPath(r.victim().get().leaf().path());
        if (!r.victimChanges()) return policy + " would kill " + now + " either way";
        return "victim changes: " + policy + " kills " + now + ", which frees " + Table.bytes(freed(r.victim().get()))
                + " less than it counts; without the BPF bytes that survive a kill it would kill "
                + r.adjustedVictim().map(v -> Table.Clip.shortPath(v.leaf().path())).orElse("nothing");
    }

    private static long freed(Ranking.Row victim) { return victim.leaf().survivingKillBytes(); }

    @Override
    public void json(JsonGenerator g, Ranking r) throws IOException {
        g.writeStartObject();
        g.writeStringField("policy", r.policy().label());
        g.writeArrayFieldStart("cgroups");
        for (Ranking.Row row : r.rows()) row(g, row);
        g.writeEndArray();
        Json.string(g, "victim", r.victim().map(v -> v.leaf().path()).orElse(null));
        Json.string(g, "adjusted_victim", r.adjustedVictim().map(v -> v.leaf().path()).orElse(null));
        g.writeBooleanField("victim_changes", r.victimChanges());
        g.writeNumberField("reserve_percent", reserve.percent());
        g.writeEndObject();
    }

    private void row(JsonGenerator g, Ranking.Row row) throws IOException {
        Leaf l = row.leaf();
        g.writeStartObject();
        g.writeStringField("path", l.path());
        g.writeNumberField("id", l.id());
        Json.string(g, "pod_uid", l.identity().podUid().isEmpty() ? null : l.identity().podUid());
        Json.string(g, "container_id", l.identity().containerId().isEmpty() ? null : l.identity().containerId());
        Json.string(g, "qos", l.identity().qos().isEmpty() ? null : l.identity().qos());
        g.writeNumberField("usage_bytes", l.usage());
        Json.optional(g, "low_bytes", l.low());
        Json.optional(g, "min_bytes", l.min());
        if (l.oomGroup().isPresent()) g.writeBooleanField("oom_group", l.oomGroup().get());
        else g.writeNullField("oom_group");
        g.writeNumberField("oom_score_adj", l.oomScoreAdj());
        g.writeNumberField("processes", l.processes());
        g.writeNumberField("bpf_bytes", l.bpfBytes());
        g.writeNumberField("bpf_surviving_kill_bytes", l.survivingKillBytes());
        Json.optional(g, "limit_bytes", l.limit());
        Json.optional(g, "kill_room_bytes", l.killRoom());
        g.writeBooleanField("repeated_oom", l.repeatedOom(reserve));
        number(g, "figure", row.figure());
        number(g, "adjusted_figure", row.adjusted());
        number(g, "rank", row.rank() == 0 ? null : (long) row.rank());
        number(g, "adjusted_rank", row.adjustedRank() == 0 ? null : (long) row.adjustedRank());
        g.writeEndObject();
    }

    private static void number(JsonGenerator g, String field, Long v) throws IOException {
        if (v == null) g.writeNullField(field);
        else g.writeNumberField(field, v);
    }
}
