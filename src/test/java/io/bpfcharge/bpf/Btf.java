package io.bpfcharge.bpf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The structs and enums of a BTF blob (the kernel's /sys/kernel/btf/vmlinux, or the .BTF section of a
 * compiled BPF object), enough to compare C layouts with Java's: member names, byte offsets and sizes.
 * Format: Documentation/bpf/btf.rst.
 */
final class Btf {
    record Member(String name, long offset, long size) {}

    record Struct(String name, long size, List<Member> members) {}

    private static final int INT = 1, PTR = 2, ARRAY = 3, STRUCT = 4, UNION = 5, ENUM = 6, FWD = 7, TYPEDEF = 8,
            VOLATILE = 9, CONST = 10, RESTRICT = 11, FUNC = 12, FUNC_PROTO = 13, VAR = 14, DATASEC = 15,
            FLOAT = 16, DECL_TAG = 17, TYPE_TAG = 18, ENUM64 = 19;

    /** One type: its kind, name, size or referenced type, and kind-specific words. */
    private record Type(int kind, String name, int sizeOrType, int vlen, boolean kindFlag, int[] extra) {}

    private final List<Type> types = new ArrayList<>(List.of(new Type(0, "", 0, 0, false, new int[0]))); // id 0: void
    private final Map<String, Integer> structs = new HashMap<>(), enums = new HashMap<>();
    private final ByteBuffer blob;
    /** Where the string section starts in {@link #blob}. */
    private final int stringsAt;

    private Btf(ByteBuffer b) {
        b.order(ByteOrder.LITTLE_ENDIAN);
        if (Short.toUnsignedInt(b.getShort(0)) != 0xeb9f) {
            b.order(ByteOrder.BIG_ENDIAN);
            if (Short.toUnsignedInt(b.getShort(0)) != 0xeb9f) throw new IllegalArgumentException("not BTF");
        }
        int hdrLen = b.getInt(4), typeOff = b.getInt(8), typeLen = b.getInt(12), strOff = b.getInt(16);
        blob = b;
        stringsAt = hdrLen + strOff;
        for (int at = hdrLen + typeOff; at < hdrLen + typeOff + typeLen; ) {
            int info = b.getInt(at + 4), vlen = info & 0xffff, kind = (info >>> 24) & 0x1f;
            int words = switch (kind) {
                case INT, VAR, DECL_TAG -> 1;
                case ARRAY -> 3;
                case STRUCT, UNION, DATASEC, ENUM64 -> 3 * vlen;
                case ENUM, FUNC_PROTO -> 2 * vlen;
                case PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG -> 0;
                default -> throw new IllegalArgumentException("BTF kind " + kind);
            };
            int[] extra = new int[words];
            for (int i = 0; i < words; i++) extra[i] = b.getInt(at + 12 + 4 * i);
            Type t = new Type(kind, str(b.getInt(at)), b.getInt(at + 8), vlen, info < 0, extra);
            types.add(t);
            if (kind == STRUCT && !t.name.isEmpty()) structs.putIfAbsent(t.name, types.size() - 1);
            if ((kind == ENUM || kind == ENUM64) && !t.name.isEmpty()) enums.putIfAbsent(t.name, types.size() - 1);
            at += 12 + 4 * words;
        }
    }

    static Btf parse(byte[] btf) { return new Btf(ByteBuffer.wrap(btf)); }

    /** The .BTF section of an ELF64 object. */
    static Btf ofElf(byte[] elf) {
        ByteBuffer b = ByteBuffer.wrap(elf).order(elf[5] == 2 ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN);
        long shoff = b.getLong(0x28);
        int shentsize = Short.toUnsignedInt(b.getShort(0x3a)), shnum = Short.toUnsignedInt(b.getShort(0x3c)),
                shstrndx = Short.toUnsignedInt(b.getShort(0x3e));
        int names = (int) b.getLong((int) (shoff + (long) shstrndx * shentsize + 0x18));
        for (int i = 0; i < shnum; i++) {
            int sh = (int) (shoff + (long) i * shentsize);
            if (string(b, names + b.getInt(sh)).equals(".BTF")) {
                int off = (int) b.getLong(sh + 0x18), size = (int) b.getLong(sh + 0x20);
                return parse(java.util.Arrays.copyOfRange(elf, off, off + size));
            }
        }
        throw new IllegalArgumentException("no .BTF section");
    }

    /** A struct by name, members with their byte offset and size (arrays: the whole array). */
    Struct struct(String name) {
        Integer id = structs.get(name);
        if (id == null) throw new IllegalArgumentException("no struct " + name + " in BTF");
        Type t = types.get(id);
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < t.vlen; i++) {
            int nameOff = t.extra[3 * i], type = t.extra[3 * i + 1], offset = t.extra[3 * i + 2];
            long bits = t.kindFlag ? offset & 0xffffff : offset;
            members.add(new Member(str(nameOff), bits / 8, size(type)));
        }
        return new Struct(name, t.sizeOrType, members);
    }

    /** An enum's values by name. */
    Map<String, Long> enumValues(String name) {
        Integer id = enums.get(name);
        if (id == null) throw new IllegalArgumentException("no enum " + name + " in BTF");
        Type t = types.get(id);
        Map<String, Long> values = new LinkedHashMap<>();
        int step = t.kind == ENUM ? 2 : 3;
        for (int i = 0; i < t.vlen; i++) {
            long v = t.kind == ENUM ? t.extra[step * i + 1]
                    : (Integer.toUnsignedLong(t.extra[step * i + 1]) | (long) t.extra[step * i + 2] << 32);
            values.put(str(t.extra[step * i]), v);
        }
        return values;
    }

    private long size(int id) {
        Type t = types.get(id);
        return switch (t.kind) {
            case INT, STRUCT, UNION, ENUM, ENUM64, FLOAT -> Integer.toUnsignedLong(t.sizeOrType);
            case PTR -> 8;
            case ARRAY -> t.extra[2] * size(t.extra[0]);
            case TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG -> size(t.sizeOrType);
            default -> throw new IllegalArgumentException("size of BTF kind " + t.kind);
        };
    }

    private String str(int off) { return string(blob, stringsAt + off); }

    private static String string(ByteBuffer b, int at) {
        int end = at;
        while (b.get(end) != 0) end++;
        byte[] s = new byte[end - at];
        b.get(at, s);
        return new String(s, StandardCharsets.UTF_8);
    }
}
