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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The Authorization header checked against basic_auth_users. bcrypt costs tens of milliseconds by
 * design, so its work is bounded: every result is remembered (as a SHA-256 of user, password and the
 * user's hash, so that a reloaded web config with a new hash is checked afresh, as exporter-toolkit does),
 * right ones and wrong ones in separate caches so that a flood of wrong passwords cannot evict a
 * right one; and the checks that must run bcrypt run one at a time on their own thread, which rests
 * after each as long as it took, a request waiting at most {@link #BCRYPT_WAIT} for its turn. A
 * flood of new wrong passwords costs half a CPU at most, and a scraper whose password passed once
 * never waits for bcrypt.
 */
final class BasicAuth {
    enum Verdict { OK, DENIED, BUSY }

    private static final int MAX_PASSWORD = 72;

    static final Duration BCRYPT_WAIT = Duration.ofSeconds(2);
    /** Unknown users are checked against this, so that timing does not tell which user names exist; made on first use (a bcrypt). */
    private static final class Dummy {
        static final String HASH = BCrypt.withDefaults().hashToString(10, "not a password".toCharArray());
    }

    private final Map<String, Boolean> passed = lru(64), failed;
    // One platform thread: bcrypt never occupies a carrier of the virtual threads that serve requests,
    // and the kernel shares the CPU between it and them (a wrong-password flood took a right scraper's
    // p99 to 753 ms with bcrypt on a carrier, on 2 busy CPUs).
    private final ExecutorService bcrypt = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("bpfcharge-bcrypt").factory());
    // After each check the bcrypt thread rests as long as the check took: a flood gets half a CPU at most.
    private long restUntil = System.nanoTime(); // bcrypt thread only
    private final AtomicLong bcryptRuns = new AtomicLong();

    /** How long a request waits for its bcrypt turn before it is answered busy. */
    private final Duration wait;

    BasicAuth() { this(1024, BCRYPT_WAIT); }

    /** Tests of the verdicts and the caching give the wait no say: on a loaded machine one bcrypt can take longer. */
    BasicAuth(int failures, Duration wait) {
        this.failed = lru(failures);
        this.wait = wait;
    }

    /** {@code users}: user name to bcrypt hash, as the web config in force has them; none lets everyone in. */
    Verdict check(Map<String, String> users, String header) {
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
        // bcrypt reads 72 bytes at most: the library refuses more (an exception, once a closed connection), and
        // Go's bcrypt, exporter-toolkit's, fails the check. No bcrypt hash can match such a password.
        if (password.getBytes(StandardCharsets.UTF_8).length > MAX_PASSWORD) return Verdict.DENIED;
        String hash = users.get(user);
        String key = sha256(hash + "\0" + user + "\0" + password);
        if (passed.containsKey(key)) return Verdict.OK;
        if (failed.containsKey(key)) return Verdict.DENIED;
        Future<Boolean> check = bcrypt.submit(() -> {
            if (passed.containsKey(key)) return true; // checked while this one waited
            if (failed.containsKey(key)) return false;
            long rest = restUntil - System.nanoTime();
            if (rest > 0) Thread.sleep(Duration.ofNanos(rest));
            bcryptRuns.incrementAndGet();
            long started = System.nanoTime();
            boolean ok = BCrypt.verifyer().verify(password.toCharArray(), hash == null ? Dummy.HASH : hash).verified && hash != null;
            restUntil = 2 * System.nanoTime() - started;
            (ok ? passed : failed).put(key, Boolean.TRUE);
            return ok;
        });
        try {
            return check.get(wait.toMillis(), TimeUnit.MILLISECONDS) ? Verdict.OK : Verdict.DENIED;
        } catch (TimeoutException e) {
            check.cancel(false); // still queued: never run; running: its result is cached for the retry
            return Verdict.BUSY;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Verdict.BUSY;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException("bcrypt failed", e.getCause());
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
