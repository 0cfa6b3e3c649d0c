package io.bpfcharge.host;

import oshi.hardware.GlobalMemory;
import oshi.hardware.common.platform.linux.LinuxGlobalMemory;
import oshi.util.FileUtil;
import oshi.util.ParseUtil;

/**
 * What the node is, for `doctor` and the node_info metric: read through OSHI from /etc/os-release, /proc/meminfo
 * and /sys (the kernel release from {@link KernelRelease}: OSHI's pure-Java module asks {@code uname} for it).
 * @param os the distribution as /etc/os-release names it ({@code PRETTY_NAME}); in a container, the image's;
 *           "Linux" when the file is missing
 * @param kernel the running kernel's release; "unknown" when /proc is not mounted
 * @param cpus logical CPUs online (/sys/devices/system/cpu/online); 0 when unknown
 * @param memoryBytes RAM the kernel manages ({@code MemTotal})
 * @param swapBytes swap space ({@code SwapTotal})
 */
public record HostFacts(String os, String kernel, int cpus, long memoryBytes, long swapBytes) {
    public static HostFacts read() {
        String release = KernelRelease.running();
        GlobalMemory memory = memory();
        return new HostFacts(readOs(), release.isEmpty() ? "unknown" : release, readCpus(), memory.getTotal(),
                memory.getVirtualMemory().getSwapTotal());
    }

    /** OSHI's /proc/meminfo reader. Its page size is only echoed back by getPageSize, which is not called here. */
    public static GlobalMemory memory() {
        return new LinuxGlobalMemory(0);
    }

    private static String readOs() {
        String name = FileUtil.getKeyValueMapFromFile("/etc/os-release", "=").getOrDefault("PRETTY_NAME", "");
        name = name.startsWith("\"") ? ParseUtil.getDoubleQuoteStringValue(name) : name.strip();
        return name.isEmpty() ? "Linux" : name;
    }

    private static int readCpus() {
        String online = FileUtil.getStringFromFile("/sys/devices/system/cpu/online").strip();
        return online.isEmpty() ? 0 : ParseUtil.parseHyphenatedIntList(online).size();
    }
}
