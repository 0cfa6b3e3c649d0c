package io.bpfcharge.bpf;

/** Linux errno values bpfcharge reasons about, and names for all the common ones. */
public final class Errno {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, E2BIG = 7, EBADF = 9,
            EAGAIN = 11, ENOMEM = 12, EACCES = 13, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENOTDIR = 20,
            EINVAL = 22, ENOSPC = 28, ENAMETOOLONG = 36, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, ENODATA = 61,
            EOPNOTSUPP = 95, ENOTSUPP = 524;

    private Errno() {}

    public static String name(int errno) {
        return switch (errno) {
            case EPERM -> "EPERM"; case ENOENT -> "ENOENT"; case ESRCH -> "ESRCH"; case EINTR -> "EINTR";
            case EIO -> "EIO"; case E2BIG -> "E2BIG"; case EBADF -> "EBADF"; case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM"; case EACCES -> "EACCES"; case EFAULT -> "EFAULT"; case EBUSY -> "EBUSY";
            case EEXIST -> "EEXIST"; case ENOTDIR -> "ENOTDIR"; case EINVAL -> "EINVAL"; case ENOSPC -> "ENOSPC";
            case ENAMETOOLONG -> "ENAMETOOLONG"; case ENOSYS -> "ENOSYS"; case ENOTEMPTY -> "ENOTEMPTY";
            case ELOOP -> "ELOOP"; case ENODATA -> "ENODATA"; case EOPNOTSUPP -> "EOPNOTSUPP";
            case ENOTSUPP -> "ENOTSUPP"; // kernel-internal, leaks out of BPF syscalls
            default -> "errno " + errno;
        };
    }
}
