package io.bpfcharge.agent;

/** How a runtime records one container in a directory of its own. */
public enum Layout {
    /** runc (also containerd's and Docker's runc roots): {@code state.json} with {@code init_process_pid}. */
    RUNC,
    /** crun: {@code status} (pid, bundle) next to a copy of {@code config.json}. */
    CRUN,
    /** A containerd shim v2 task bundle: {@code config.json} and {@code init.pid}. */
    TASK_BUNDLE,
    /** CRI-O and podman: {@code userdata/config.json} and {@code userdata/pidfile}. */
    USERDATA
}
