package io.bpfcharge.hook;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OciStateTest {
    /** What crun 1.8 writes on a poststart hook's stdin (captured on this machine). */
    static final String CRUN = """
            {"ociVersion":"1.0","id":"c1","pid":14632,"root":"rootfs","bundle":"/tmp/b","status":"running",\
            "annotations":{"io.bpfcharge.maps":"/sys/fs/bpf/x","run.oci.hooks.stderr":"/tmp/hook.err"}}""";

    @Test
    void parsesRuntimeState() {
        OciState s = OciState.parse(CRUN);
        assertEquals("1.0", s.ociVersion());
        assertEquals("c1", s.id());
        assertEquals("running", s.status());
        assertEquals(14632, s.pid());
        assertEquals("/tmp/b", s.bundle());
        assertEquals("/sys/fs/bpf/x", s.annotations().get("io.bpfcharge.maps"));
        assertEquals(2, s.annotations().size());
    }

    @Test
    void optionalFieldsMayBeAbsent() {
        OciState s = OciState.parse("{\"id\":\"x\",\"pid\":1}");
        assertEquals("", s.bundle());
        assertTrue(s.annotations().isEmpty());
        assertEquals(1, OciState.parse("{\"id\":\"x\",\"pid\":1,\"annotations\":null}").pid());
    }

    @Test
    void readsFromAStream() {
        OciState s = OciState.read(new ByteArrayInputStream(CRUN.getBytes(StandardCharsets.UTF_8)));
        assertEquals("c1", s.id());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                                              | is empty",
            "'{\"id\":\"c1\",\"pid\":12'                     | is truncated",
            "'{\"id\":\"c1\",\"pid\":12,\"annotations\":{\"a\":\"b'| is truncated",
            "'{\"id\":\"c1\" \"pid\":12}'                    | is not valid JSON",
            "'[1,2]'                                         | is not a JSON object",
            "'\"c1\"'                                        | is not a JSON object",
            "'{\"id\":\"c1\",\"pid\":12} {}'                 | is not valid JSON",
            "'{\"id\":\"c1\",\"pid\":\"12\"}'                | has \"pid\" \"12\", not a positive process id",
            "'{\"id\":\"c1\",\"pid\":-3}'                    | not a positive process id",
            "'{\"id\":\"c1\",\"pid\":0}'                     | not a positive process id",
            "'{\"id\":\"c1\",\"pid\":1.5}'                   | not a positive process id",
            "'{\"id\":\"c1\",\"pid\":99999999999999999999}'  | not a positive process id",
            "'{\"id\":\"c1\"}'                               | has no \"pid\"",
            "'{\"pid\":12}'                                  | has no \"id\"",
            "'{\"id\":\"\",\"pid\":12}'                      | has an empty \"id\"",
            "'{\"id\":7,\"pid\":12}'                         | has \"id\" of type number, not a string",
            "'{\"id\":\"c1\",\"pid\":12,\"status\":[]}'      | has \"status\" of type array, not a string",
            "'{\"id\":\"c1\",\"pid\":12,\"annotations\":[]}' | has \"annotations\" of type array, not an object",
            "'{\"id\":\"c1\",\"pid\":12,\"annotations\":{\"k\":1}}' | has annotation \"k\" of type number, not a string",
            "'{\"id\":\"c1\",\"pid\":12,\"pid\":13}'         | is not valid JSON (Duplicate field 'pid'",
    })
    void badStateIsOneClearLineWithUsageExit(String json, String expected) {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> OciState.parse(json));
        assertEquals(Exit.USAGE, e.exit());
        assertTrue(e.getMessage().startsWith("OCI state on stdin "), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
        assertTrue(e.getMessage().contains("OCI runtime"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void hugeInputIsRefusedWithoutReadingItAll() {
        // An endless stream: the reader must stop after its bound, not exhaust memory.
        InputStream endless = new InputStream() {
            @Override
            public int read() { return ' '; }

            @Override
            public int read(byte[] b, int off, int len) {
                java.util.Arrays.fill(b, off, off + len, (byte) ' ');
                return len;
            }
        };
        InputStream in = new SequenceInputStream(new ByteArrayInputStream("{\"id\":\"c1\",\"pid\":1,\"x\":\"".getBytes()), endless);
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> OciState.read(in));
        assertEquals(Exit.USAGE, e.exit());
        assertTrue(e.getMessage().contains("is larger than 1048576 bytes"), e.getMessage());
    }

    @Test
    void deepNestingIsRefused() {
        String deep = "{\"id\":\"c1\",\"pid\":1,\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> OciState.parse(deep));
        assertEquals(Exit.USAGE, e.exit());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void untrustedTextIsClippedToOneShortLine() {
        String key = "k\n".repeat(100);
        String json = "{\"id\":\"c1\",\"pid\":1,\"annotations\":{\"" + key.replace("\n", "\\n") + "\":1}}";
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> OciState.parse(json));
        assertFalse(e.getMessage().contains("\n"));
        assertTrue(e.getMessage().length() < 400, e.getMessage());
    }
}
