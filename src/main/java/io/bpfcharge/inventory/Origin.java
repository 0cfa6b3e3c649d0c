package io.bpfcharge.inventory;

/**
 * The first memory cgroup a map was seen charged to, as the node agent recorded it: the kernel forgets it when
 * the cgroup is removed and the charge moves to the parent.
 * @param container the id of the container that ran in it, when the agent knew; null otherwise
 */
public record Origin(long memcgId, String path, String container) {}
