package io.bpfcharge.doctor;

import io.bpfcharge.BpfchargeException.Exit;

/**
 * One environment check.
 * @param ok whether it passed
 * @param detail what was found
 * @param fix what to do when it failed (null when ok)
 * @param exit the exit code a command that needs this check ends with when it failed
 */
public record Check(String name, boolean ok, String detail, String fix, Exit exit) {
    static Check ok(String name, String detail) { return new Check(name, true, detail, null, Exit.OK); }

    static Check fail(String name, String detail, String fix, Exit exit) { return new Check(name, false, detail, fix, exit); }
}
