package io.bpfcharge.bpf;

/** What the kernel says about a map ({@code struct bpf_map_info}): everything needed to create its twin. */
public record MapInfo(int id, MapType type, String name, int keySize, int valueSize, int maxEntries, int flags,
                      long mapExtra, int btfId, int btfKeyTypeId, int btfValueTypeId, int btfVmlinuxValueTypeId,
                      int ifindex) {
    /** struct bpf_map_info up to map_extra; older and newer kernels copy what both know. */
    static final int SIZE = 88;

    /** Bytes of one value as user space reads and writes it: per-CPU maps hold one 8-byte aligned copy per possible CPU, maps of maps an id (read) or fd (write). */
    public int userValueSize() {
        if (type.isPerCpu()) return ((valueSize + 7) & ~7) * Cpus.possible();
        return type.isMapOfMaps() ? 4 : valueSize;
    }

    static MapInfo parse(java.lang.foreign.MemorySegment s) {
        return new MapInfo(s.get(Native.I, 4), new MapType(s.get(Native.I, 0)), cString(s, 24, 16),
                s.get(Native.I, 8), s.get(Native.I, 12), s.get(Native.I, 16), s.get(Native.I, 20),
                s.get(Native.L, 80), s.get(Native.I, 64), s.get(Native.I, 68), s.get(Native.I, 72),
                s.get(Native.I, 44), s.get(Native.I, 40));
    }

    static String cString(java.lang.foreign.MemorySegment s, long offset, int max) {
        byte[] b = s.asSlice(offset, max).toArray(Native.JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, java.nio.charset.StandardCharsets.UTF_8);
    }
}
