package io.bpfcharge.bpf;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The named predicates callers use instead of comparing errno numbers. */
class BpfExceptionTest {
    @Test
    void eachPredicateMeansItsErrnos() {
        assertTrue(new BpfException("x", Errno.EPERM).permissionDenied());
        assertTrue(new BpfException("x", Errno.EACCES).permissionDenied());
        assertFalse(new BpfException("x", Errno.ENOENT).permissionDenied());
        assertTrue(new BpfException("x", Errno.ENOMEM).outOfMemory());
        assertFalse(new BpfException("x", Errno.ENOSPC).outOfMemory());
        for (int e : new int[]{Errno.EINVAL, Errno.ENOTSUPP, Errno.EOPNOTSUPP})
            assertTrue(new BpfException("x", e).unsupported(), Errno.name(e));
        assertFalse(new BpfException("x", Errno.EPERM).unsupported());
        assertTrue(new BpfException("x", Errno.EEXIST).exists());
        assertTrue(new BpfException("x", Errno.ENOENT).notFound());
        assertEquals("map create: ENOMEM", new BpfException("map create", Errno.ENOMEM).getMessage());
    }
}
