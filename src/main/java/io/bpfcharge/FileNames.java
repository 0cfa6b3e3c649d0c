package io.bpfcharge;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * File names as text without loss. A Linux name is bytes; Java's {@code Path.toString()} decodes them with
 * {@code sun.jnu.encoding}, which turns every byte that is not UTF-8 into U+FFFD (two names become one), and
 * under the C/POSIX locale (ASCII) {@code Path.of} even refuses a valid UTF-8 name. Here a name's text is its
 * UTF-8 decoding with every byte that is not part of valid UTF-8, and '%' itself, written as {@code %HH}
 * (upper-case hex): {@code b"a\xff"} is {@code a%FF}, {@code "50%"} is {@code 50%25}. Percent, not a
 * backslash: systemd's cgroup names are full of literal {@code \x2d}, which would all change. The bytes
 * travel through {@code file:} URIs, which the JDK converts to and from paths byte for byte.
 */
public final class FileNames {
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private FileNames() {}

    /** The text of a path (absolute or relative). */
    public static String text(Path p) {
        String s = p.toString();
        if (plain(s)) return s; // ASCII decodes the same in every charset Linux uses
        Path abs = p.isAbsolute() ? p : Path.of("/").resolve(p);
        String raw = abs.toUri().getRawPath(); // each byte: itself if URI-safe ASCII, else %HH
        if (raw.length() > 1 && raw.endsWith("/")) raw = raw.substring(0, raw.length() - 1); // toUri marks directories
        String text = text(bytes(raw));
        return p.isAbsolute() ? text : text.substring(1);
    }

    /** The path a text names (the inverse of {@link #text(Path)}). */
    public static Path path(String text) {
        if (plain(text)) return Path.of(text);
        boolean absolute = text.startsWith("/");
        byte[] b = bytes(absolute ? text : "/" + text);
        StringBuilder uri = new StringBuilder("file://");
        for (byte x : b) {
            int c = x & 0xff;
            if (c == '/' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
                uri.append((char) c);
            } else {
                uri.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            }
        }
        Path abs;
        try {
            abs = Path.of(URI.create(uri.toString()));
        } catch (IllegalArgumentException e) { // %00: no file name holds a NUL byte
            throw new InvalidPathException(text, e.getMessage());
        }
        return absolute ? abs : Path.of("/").relativize(abs);
    }

    /** Bytes as text: valid UTF-8 as itself, other bytes as %HH. */
    public static String text(byte[] b) {
        StringBuilder out = new StringBuilder(b.length);
        for (int i = 0; i < b.length; ) {
            int n = sequence(b, i);
            if (n == 0) {
                int c = b[i++] & 0xff;
                out.append('%').append(HEX[c >> 4]).append(HEX[c & 15]);
            } else {
                out.append(new String(b, i, n, StandardCharsets.UTF_8));
                i += n;
            }
        }
        return out.toString();
    }

    /** Text as bytes: %HH as that byte, anything else (a '%' without two hex digits too) as its UTF-8. */
    public static byte[] bytes(String text) {
        byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[utf8.length];
        int n = 0;
        for (int i = 0; i < utf8.length; i++) {
            int hi, lo;
            if (utf8[i] == '%' && i + 2 < utf8.length && (hi = hex(utf8[i + 1])) >= 0 && (lo = hex(utf8[i + 2])) >= 0) {
                out[n++] = (byte) (hi << 4 | lo);
                i += 2;
            } else {
                out[n++] = utf8[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= 0x80 || c == '%') return false;
        }
        return true;
    }

    /** The length of the valid UTF-8 sequence at {@code i}, 0 when the byte there must be escaped. */
    private static int sequence(byte[] b, int i) {
        int c = b[i] & 0xff;
        if (c < 0x80) return c == '%' ? 0 : 1;
        int n, min, max = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) { n = 2; min = 0x80; }
        else if (c == 0xe0) { n = 3; min = 0xa0; } // no overlong forms
        else if (c == 0xed) { n = 3; min = 0x80; max = 0x9f; } // no UTF-16 surrogates
        else if (c >= 0xe1 && c <= 0xef) { n = 3; min = 0x80; }
        else if (c == 0xf0) { n = 4; min = 0x90; }
        else if (c >= 0xf1 && c <= 0xf3) { n = 4; min = 0x80; }
        else if (c == 0xf4) { n = 4; min = 0x80; max = 0x8f; } // nothing above U+10FFFF
        else return 0;
        if (i + n > b.length) return 0;
        int second = b[i + 1] & 0xff;
        if (second < min || second > max) return 0;
        for (int k = 2; k < n; k++) if ((b[i + k] & 0xc0) != 0x80) return 0;
        return n;
    }

    private static int hex(byte c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }
}
