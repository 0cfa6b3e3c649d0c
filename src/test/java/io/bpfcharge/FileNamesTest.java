package io.bpfcharge;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Names whose bytes are not UTF-8 keep them, as text and back, and never two names one text. */
class FileNamesTest {
    private static byte[] b(int... v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) out[i] = (byte) v[i];
        return out;
    }

    @Test
    void bytesThatAreNotUtf8AndPercentAreEscaped() {
        assertEquals("a%FF", FileNames.text(b('a', 0xff)));
        assertEquals("a%FE", FileNames.text(b('a', 0xfe)));
        assertEquals("café", FileNames.text("café".getBytes(StandardCharsets.UTF_8)));
        assertEquals("50%25", FileNames.text("50%".getBytes(StandardCharsets.UTF_8)));
        assertEquals("system-serial\\x2dgetty.slice", FileNames.text("system-serial\\x2dgetty.slice".getBytes(StandardCharsets.UTF_8)));
        assertEquals("%C3", FileNames.text(b(0xc3)), "a sequence cut short");
        assertEquals("%C0%AF", FileNames.text(b(0xc0, 0xaf)), "an overlong '/'");
        assertEquals("%ED%A0%80", FileNames.text(b(0xed, 0xa0, 0x80)), "a UTF-16 surrogate");
        assertEquals("%F4%90%80%80", FileNames.text(b(0xf4, 0x90, 0x80, 0x80)), "above U+10FFFF");
        assertEquals("\uD83D\uDE00", FileNames.text(b(0xf0, 0x9f, 0x98, 0x80)));
    }

    @Test
    void everyTwoByteNameRoundTripsAndNoTwoShareAText() {
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int x = 1; x < 256; x++) {
            for (int y = 1; y < 256; y++) {
                byte[] name = b(x, y);
                String text = FileNames.text(name);
                assertArrayEquals(name, FileNames.bytes(text), text);
                assertTrue(seen.add(text), text);
            }
        }
    }

    @Test
    void aPercentWithoutTwoHexDigitsIsItself() {
        assertArrayEquals("50%".getBytes(StandardCharsets.UTF_8), FileNames.bytes("50%"));
        assertArrayEquals("%zz".getBytes(StandardCharsets.UTF_8), FileNames.bytes("%zz"));
    }

    @Test
    void pathsRoundTripThroughTheFileSystem(@TempDir Path dir) throws Exception {
        String parent = FileNames.text(dir);
        for (String name : new String[]{"a%FF", "a%FE", "café", "50%25", "plain"}) {
            Path p = FileNames.path(parent + "/" + name);
            Files.createDirectory(p);
            assertEquals(parent + "/" + name, FileNames.text(p));
            assertEquals(name, FileNames.text(dir.relativize(p)));
            assertEquals(p, dir.resolve(FileNames.path(name)), "a relative text resolves to the same path");
        }
        try (var listed = Files.list(dir)) {
            assertEquals(5, listed.map(FileNames::text).distinct().count());
        }
        assertNotEquals(FileNames.path(parent + "/a%FF"), FileNames.path(parent + "/a%FE"));
    }

    @Test
    void aNulByteIsNoName() {
        assertThrows(InvalidPathException.class, () -> FileNames.path("/a%00b"));
    }
}
