package io.bpfcharge.metrics;

import at.favre.lib.crypto.bcrypt.BCrypt;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Authorization header checked against basic_auth_users. bcrypt costs tens of milliseconds by
 * design, so its work is bounded: every result is remembered (as a SHA-256 of user and password),
 * right ones and wrong ones in separate caches so that a flood of wrong passwords cannot evict a
 * right one; and the checks that must run bcrypt run one at a time, waiting at most
 * {@link #BCRYPT_WAIT}. A flood of new wrong passwords costs one core at most, and a scraper whose
 * password passed once never waits for it.
 */
final class BasicAuth {
    enum Verdict { OK, DENIED, BUSY }

    static final Duration BCRYPT_WAIT = Duration.ofSeconds(2);
    /** Unknown users are checked against this, so that timing does not tell which user names exist; made on first use (a bcrypt). */
    private static final class Dummy {
        static final String HASH = BCrypt.withDefaults().hashToString(10, "not a password".toCharArray());
    }

    private final Map<String, String> users;
    private final Map<String, Boolean> passed = lru(64), failed = lru(1024);
    private final Semaphore bcrypt = new Semaphore(1, true);
    private final AtomicLong bcryptRuns = new AtomicLong();

    BasicAuth(Map<String, String> users) { this.users = users; }

    Verdict check(String header) {
        if (users.isEmpty()) return Verdict.OK;
        if (header == null || !header.regionMatches(true, 0, "Basic ", 0, 6)) return Verdict.DENIED;
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return Verdict.DENIED;
        }
        int colon = decoded.indexOf(':');
        if (colon < 0) return Verdict.DENIED;
        String user = decoded.substring(0, colon), password = decoded.substring(colon + 1);
        String key = sha256(user + "\0" + password);
        if (passed.containsKey(key)) return Verdict.OK;
        if (failed.containsKey(key)) return Verdict.DENIED;
        try {
            if (!bcrypt.tryAcquire(BCRYPT_WAIT.toMillis(), TimeUnit.MILLISECONDS)) return Verdict.BUSY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.BUSY;
        }
        try {
            if (passed.containsKey(key)) return Verdict.OK; // checked while this one waited
            if (failed.containsKey(key)) return Verdict.DENIED;
            String hash = users.get(user);
            bcryptRuns.incrementAndGet();
            boolean ok = BCrypt.verifyer().verify(password.toCharArray(), hash == null ? Dummy.HASH : hash).verified && hash != null;
            (ok ? passed : failed).put(key, Boolean.TRUE);
            return ok ? Verdict.OK : Verdict.DENIED;
        } finally {
            bcrypt.release();
        }
    }

    /** How many bcrypt verifications ran (for tests of the caching). */
    long bcryptRuns() { return bcryptRuns.get(); }

    private static Map<String, Boolean> lru(int entries) {
        return Collections.synchronizedMap(new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) { return size() > entries; }
        });
    }

    private static String sha256(String s) {
        try {
            return Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
