package io.bpfcharge.bpf;

import java.util.List;

/** A loaded program and the maps it uses directly (its {@code map_ids}). */
public record ProgInfo(int id, int type, String name, List<Integer> mapIds) {}
