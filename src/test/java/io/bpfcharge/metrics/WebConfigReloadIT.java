package io.bpfcharge.metrics;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.metrics.TlsClients.assertStatus;
import static io.bpfcharge.metrics.TlsClients.curl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The web config and the files it names, changed under a running daemon (HTTPS with basic auth) and
 * met by curl and openssl s_client: a new password, a new certificate, a broken file, SIGHUP.
 */
@KernelTest
@HostOnly // TLS and files are the same on every kernel
class WebConfigReloadIT {
    @TempDir Path dir;
    private Path web;

    @BeforeEach
    void files() throws Exception {
        TlsClients.ca(dir, "ca");
        TlsClients.issue(dir, "server", "ca");
        web = dir.resolve("web.yml");
        Files.writeString(web, config("first-password"));
    }

    private static String config(String password) {
        return "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\nbasic_auth_users:\n  prom: "
                + BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(5, password.toCharArray()) + "\n";
    }

    private Daemon serve() throws Exception { return new Daemon(Map.of(), "--web-config", web.toString()); }

    private TlsClients.Reply get(Daemon d, String password) throws Exception {
        return curl(d.uri("/metrics"), "--cacert", dir.resolve("ca.pem").toString(), "-u", "prom:" + password);
    }

    private Scrape scrape(Daemon d, String password) throws Exception {
        TlsClients.Reply r = get(d, password);
        assertStatus("200", r, "scrape");
        return Scrape.parse(r.body());
    }

    @Test
    void aNewPasswordWorksAndTheOldOneStops() throws Exception {
        try (Daemon d = serve()) {
            assertStatus("200", get(d, "first-password"), "before");
            assertStatus("401", get(d, "second-password"), "before");
            TlsClients.replace(web, config("second-password"));
            // Every request stats the files: the first request after the rename sees the new config.
            assertEquals(1, Await.until("the new password accepted", Duration.ofSeconds(30), () -> get(d, "second-password").status().equals("200")));
            assertStatus("401", get(d, "first-password"), "the old password after the rotation");
            assertEquals(1, scrape(d, "second-password").value("bpfcharge_web_config_last_reload_successful"));
        }
    }

    @Test
    void aNewCertificateIsServedWithoutARestart() throws Exception {
        try (Daemon d = serve()) {
            String authority = d.base.getAuthority();
            assertEquals(TlsClients.fingerprint(Files.readString(dir.resolve("server.pem"))), TlsClients.served(authority));
            TlsClients.issue(dir, "renewed", "ca");
            String renewed = TlsClients.fingerprint(Files.readString(dir.resolve("renewed.pem")));
            // As a renewal writes them: the key, then the certificate, each renamed into place.
            TlsClients.replace(dir.resolve("server.key"), Files.readString(dir.resolve("renewed.key")));
            TlsClients.replace(dir.resolve("server.pem"), Files.readString(dir.resolve("renewed.pem")));
            Await.until("the renewed certificate served", Duration.ofSeconds(30), () -> TlsClients.served(authority).equals(renewed));
            Scrape s = scrape(d, "first-password");
            assertEquals(1, s.value("bpfcharge_web_config_last_reload_successful"));
        }
    }

    @Test
    void aBrokenFileKeepsTheLastGoodConfigAndTheGaugeSaysSo() throws Exception {
        try (Daemon d = serve()) {
            Scrape before = scrape(d, "first-password");
            assertEquals(1, before.value("bpfcharge_web_config_last_reload_successful"));
            double loaded = before.value("bpfcharge_web_config_last_reload_success_timestamp_seconds");
            assertTrue(Math.abs(loaded - System.currentTimeMillis() / 1000.0) < 600, "a Unix time: " + loaded);
            TlsClients.replace(web, "basic_auth_users:\n  prom: [\n");
            Await.until("the gauge at 0", Duration.ofSeconds(30), () -> scrape(d, "first-password").value("bpfcharge_web_config_last_reload_successful") == 0);
            assertTrue(d.awaitLine("not reloaded, the last good one stays in force").contains(web.toString()));
            assertEquals(loaded, scrape(d, "first-password").value("bpfcharge_web_config_last_reload_success_timestamp_seconds"));
            // A good config naming a key that is not there is no better.
            TlsClients.replace(web, config("second-password").replace("server.key", "absent.key"));
            assertStatus("200", get(d, "first-password"), "the last good config");
            assertTrue(d.awaitLine("not reloaded").contains("absent.key"));
            assertStatus("401", get(d, "second-password"), "the refused config");

            TlsClients.replace(web, config("second-password"));
            Await.until("the good config loaded", Duration.ofSeconds(30), () -> get(d, "second-password").status().equals("200"));
            Scrape after = scrape(d, "second-password");
            assertEquals(1, after.value("bpfcharge_web_config_last_reload_successful"));
            assertTrue(after.value("bpfcharge_web_config_last_reload_success_timestamp_seconds") > loaded);
        }
    }

    /** Without a request in between: only the signal can have made it read the file. The JVM's default ends the process (129). */
    @Test
    void sighupReloadsAndTheProcessKeepsRunning() throws Exception {
        try (Daemon d = serve()) {
            assertStatus("200", get(d, "first-password"), "before");
            Files.writeString(web, config("second-password"));
            for (int i = 0; i < 2; i++) { // the second time nothing changed: reloaded all the same
                hangUp(d);
                assertTrue(d.awaitLine("reloaded").contains(web.toString()));
                assertTrue(d.alive(), "SIGHUP ended the daemon: exit " + (d.alive() ? "" : d.process().exitValue()));
            }
            assertStatus("200", get(d, "second-password"), "after SIGHUP");
            assertStatus("401", get(d, "first-password"), "after SIGHUP");
            assertTrue(scrape(d, "second-password").find("bpfcharge_maps").isPresent());
        }
    }

    /** `systemctl reload` sends SIGHUP whatever the options: without a web config it must not end the daemon either. */
    @Test
    void sighupWithoutAWebConfigIsHarmless() throws Exception {
        try (Daemon d = new Daemon(Map.of())) {
            hangUp(d);
            d.awaitLine("SIGHUP: no --web-config to reload");
            assertTrue(d.alive(), "SIGHUP ended the daemon");
            assertStatus("200", curl(d.uri("/-/healthy")), "after SIGHUP");
        }
    }

    /**
     * A JVM keeps a signal its parent ignored (nohup does that to SIGHUP) ignored: the daemon cannot reload on
     * SIGHUP then, and must say so at start rather than let a `kill -HUP` do nothing silently.
     */
    @Test
    void aSighupIgnoredByTheParentIsSaidAtStart() throws Exception {
        try (Daemon d = Daemon.via(List.of("nohup"))) {
            hangUp(d);
            assertTrue(d.alive(), "SIGHUP ended the daemon");
            assertStatus("200", curl(d.uri("/-/healthy")), "after SIGHUP");
            assertTrue(d.startLines().contains("SIGHUP is ignored"), d.startLines());
        }
    }

    private static void hangUp(Daemon d) throws Exception {
        assertEquals(0, new ProcessBuilder("kill", "-HUP", Long.toString(d.process().pid())).inheritIO().start().waitFor());
    }
}
