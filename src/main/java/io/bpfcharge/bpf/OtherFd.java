package io.bpfcharge.bpf;

/** A pinned BPF object that is neither a map nor a program (a link, an iterator). */
public final class OtherFd extends BpfFd {
    private final String kind;

    OtherFd(int fd, String kind) {
        super(fd);
        this.kind = kind;
    }

    /** The anon inode's kind, e.g. {@code bpf_link}. */
    public String kind() { return kind; }
}
