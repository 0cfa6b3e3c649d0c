package io.bpfcharge.migrate;

import io.bpfcharge.Mappers;
import io.bpfcharge.inventory.MapRecord;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A journal outlives the process that wrote it (a crash, an upgrade in between): its field names are a format. */
class JournalFormatTest {
    @Test
    void anEntryIsWrittenInSnakeCaseAndReadBack() throws Exception {
        Journal.Entry e = new Journal.Entry(Journal.Phase.READY, 10, 11, "tok", Plan.Kind.values()[0], "/a", "/b",
                MigrationRequest.Strategy.COPY_SWAP, MigrationRequest.Merge.SUM, List.of(new MapRecord.Slot(7, "0100")),
                List.of("/sys/fs/bpf/x"), "/sys/fs/bpf/bpfcharge_tmp_10_tok", "/sys/fs/bpf/bpfcharge_old_10_tok",
                "/run/b.bin", 4096, true, "/run/u.bin");
        String json = Mappers.JSON.writeValueAsString(e);
        for (String field : List.of("\"old_id\":10", "\"new_id\":11", "\"temp_pin\":", "\"keep_pin\":", "\"undo_base\":",
                "\"slots\":[{\"outer_id\":7,\"key\":\"0100\"}]"))
            assertTrue(json.contains(field), field + " in " + json);
        assertEquals(e, Mappers.JSON.readValue(json, Journal.Entry.class));
    }
}
