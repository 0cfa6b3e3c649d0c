package io.bpfcharge.bpf;

import io.bpfcharge.bpf.Structs.BpfMapInfo;

import java.lang.foreign.MemorySegment;

/** What the kernel says about a map ({@code struct bpf_map_info}): everything needed to create its twin. */
public record MapInfo(int id, MapType type, String name, int keySize, int valueSize, int maxEntries, int flags,
                      long mapExtra, int btfId, int btfKeyTypeId, int btfValueTypeId, int btfVmlinuxValueTypeId,
                      int ifindex) {
    /** Bytes of one value as user space reads and writes it: per-CPU maps hold one 8-byte aligned copy per possible CPU, maps of maps an id (read) or fd (write). */
    public int userValueSize() {
        if (type.isPerCpu()) return ((valueSize + 7) & ~7) * Cpus.possible();
        return type.isMapOfMaps() ? 4 : valueSize;
    }

    /** From a struct bpf_map_info. */
    static MapInfo parse(MemorySegment s) {
        return new MapInfo((int) BpfMapInfo.ID.get(s, 0L), MapType.of((int) BpfMapInfo.TYPE.get(s, 0L)),
                Structs.cString(s, BpfMapInfo.NAME, 16), (int) BpfMapInfo.KEY_SIZE.get(s, 0L),
                (int) BpfMapInfo.VALUE_SIZE.get(s, 0L), (int) BpfMapInfo.MAX_ENTRIES.get(s, 0L),
                (int) BpfMapInfo.MAP_FLAGS.get(s, 0L), (long) BpfMapInfo.MAP_EXTRA.get(s, 0L),
                (int) BpfMapInfo.BTF_ID.get(s, 0L), (int) BpfMapInfo.BTF_KEY_TYPE_ID.get(s, 0L),
                (int) BpfMapInfo.BTF_VALUE_TYPE_ID.get(s, 0L), (int) BpfMapInfo.BTF_VMLINUX_VALUE_TYPE_ID.get(s, 0L),
                (int) BpfMapInfo.IFINDEX.get(s, 0L));
    }
}
