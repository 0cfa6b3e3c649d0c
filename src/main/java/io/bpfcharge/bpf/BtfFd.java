package io.bpfcharge.bpf;

/** A BTF object, needed to create a map with the same key and value types as another. */
public final class BtfFd extends BpfFd {
    BtfFd(int fd) { super(fd); }

    public static BtfFd byId(int id) {
        return new BtfFd(Native.checked("open btf id " + id, () -> (int) Native.Ids.BTF_GET_FD_BY_ID.invokeExact(id)));
    }
}
