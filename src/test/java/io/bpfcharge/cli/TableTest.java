package io.bpfcharge.cli;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.bpfcharge.cli.PrinterTest.capture;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The table's columns give way to a width: paths from the left, lists from the right, the widest first. */
class TableTest {
    static final String ID = "0123456789ab" + "c".repeat(52);
    static final String PATH = "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234abcd_5678_90ef_1234_567890abcdef.slice"
            + "/cri-containerd-" + ID + ".scope";
    static final String HOLDERS = "agent/4242,agent/4243,xdp_main/prog:17,tc_ingress/prog:18";

    static Table table() {
        return new Table(">ID", "MEMCG", "PINS", "HOLDERS")
                .row(7, PATH, "/sys/fs/bpf/demo/sessions", HOLDERS)
                .row(8, "/system.slice/x.service", "", "")
                .elastic("MEMCG", Table.Clip.PATH).elastic("PINS", Table.Clip.PATH).elastic("HOLDERS", Table.Clip.LIST);
    }

    static List<String> lines(Table t) { return capture(t::print).lines().toList(); }

    @Test
    void everyElasticColumnGivesWaySoThatLinesFitTheWidth() {
        List<String> lines = lines(table().fit(90));
        for (String l : lines) assertTrue(l.length() <= 90, l.length() + " columns: " + l);
        String row = lines.get(1);
        // The widest column gave way first and most: the path, from the left, its container id cut to 12 digits first.
        assertTrue(row.contains("…") && row.contains("-0123456789ab.scope") && !row.contains("ccc"), row);
        // The list, cut from the right: its start stays.
        assertTrue(row.contains("agent/4242,") && row.endsWith("…"), row);
        // A column narrower than the others' share stays whole.
        assertTrue(row.contains("/sys/fs/bpf/demo/sessions"), row);
        assertEquals(90, row.length(), "uses the whole width: " + row);
    }

    @Test
    void wholeCellsWithoutAWidth() {
        List<String> lines = lines(table());
        assertTrue(lines.get(1).contains(PATH) && lines.get(1).endsWith(HOLDERS), lines.get(1));
    }

    @Test
    void aPathThatFitsOnceItsContainerIdIsCutIsNotClippedFurther() {
        String cut = PATH.replace(ID, "0123456789ab");
        List<String> lines = lines(new Table("MEMCG", ">BYTES").row(PATH, "1.0M").elastic("MEMCG", Table.Clip.PATH)
                .fit(cut.length() + 2 + 5));
        assertEquals(cut + "   1.0M", lines.get(1));
    }

    @Test
    void elasticColumnsStopAtTheirNamesInATerminalTooNarrow() {
        List<String> lines = lines(table().fit(10));
        assertEquals("ID  MEMCG  PINS  HOLDERS", lines.get(0));
        assertEquals(" 7  …cope  …ons  agent/…", lines.get(1));
    }

    @Test
    void fixedColumnsNeverShrink() {
        List<String> lines = lines(new Table("NAME", "MEMCG").row("a-long-map-name", PATH).elastic("MEMCG", Table.Clip.PATH).fit(30));
        assertEquals("a-long-map-name  …6789ab.scope", lines.get(1));
    }
}
