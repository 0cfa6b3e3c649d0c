package io.bpfcharge.cgroup;

/** How the host mounts cgroups: only v1 hierarchies, only the unified v2 tree, or both. */
public enum CgroupMode {
    V1, V2, HYBRID;

    @Override
    public String toString() { return name().toLowerCase(); }
}
