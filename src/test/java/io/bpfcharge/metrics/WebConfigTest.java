package io.bpfcharge.metrics;

import at.favre.lib.crypto.bcrypt.BCrypt;
import io.bpfcharge.BpfchargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.metrics.BasicAuth.Verdict.DENIED;
import static io.bpfcharge.metrics.BasicAuth.Verdict.OK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebConfigTest {
    @TempDir Path dir;

    Path file(String yaml) throws IOException {
        return Files.writeString(dir.resolve("web.yml"), yaml);
    }

    static String basic(String user, String password) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void basicAuthChecksBcryptHashesOfEveryVariant() throws IOException {
        String y = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        String a = BCrypt.with(BCrypt.Version.VERSION_2A).hashToString(4, "other".toCharArray());
        WebConfig c = WebConfig.read(file("basic_auth_users:\n  prom: " + y + "\n  ops: '" + a + "'\n"));
        assertNull(c.tls());
        BasicAuth auth = new BasicAuth();
        Map<String, String> u = c.users();
        assertEquals(OK, auth.check(u, basic("prom", "s3cret")));
        assertEquals(OK, auth.check(u, basic("prom", "s3cret")), "cached second time");
        assertEquals(OK, auth.check(u, basic("ops", "other")));
        assertEquals(DENIED, auth.check(u, basic("prom", "wrong")));
        assertEquals(DENIED, auth.check(u, basic("nobody", "s3cret")));
        assertEquals(DENIED, auth.check(u, null));
        assertEquals(DENIED, auth.check(u, "Bearer x"));
        assertEquals(DENIED, auth.check(u, "Basic !!!"));
        assertEquals(DENIED, auth.check(u, basic("prom", "s3cret" + "x".repeat(67))), "73 bytes: more than bcrypt reads");
    }

    /** A reloaded web config with a new hash: the remembered results of the old one count no more, either way. */
    @Test
    void aNewHashIsCheckedAfreshNotAnsweredFromTheCache() {
        String old = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "old-one".toCharArray());
        String rotated = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "new-one".toCharArray());
        BasicAuth auth = new BasicAuth();
        assertEquals(OK, auth.check(Map.of("prom", old), basic("prom", "old-one")));
        assertEquals(DENIED, auth.check(Map.of("prom", old), basic("prom", "new-one")));
        assertEquals(DENIED, auth.check(Map.of("prom", rotated), basic("prom", "old-one")));
        assertEquals(OK, auth.check(Map.of("prom", rotated), basic("prom", "new-one")));
        assertEquals(DENIED, auth.check(Map.of("ops", rotated), basic("prom", "new-one")), "a removed user");
    }

    @Test
    void aWrongPasswordCostsOneBcryptAndCannotEvictARightOne() throws IOException {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        Map<String, String> u = WebConfig.read(file("basic_auth_users:\n  prom: " + hash + "\n")).users();
        BasicAuth auth = new BasicAuth(16);
        assertEquals(OK, auth.check(u, basic("prom", "s3cret")));
        for (int i = 0; i < 5; i++) assertEquals(DENIED, auth.check(u, basic("prom", "wrong")));
        for (int i = 0; i < 5; i++) assertEquals(DENIED, auth.check(u, basic("nobody", "wrong")));
        assertEquals(3, auth.bcryptRuns(), "one bcrypt per distinct user and password, right or wrong");
        for (int i = 0; i < 40; i++) auth.check(u, basic("prom", "guess" + i)); // more than the failure cache holds
        long before = auth.bcryptRuns();
        assertEquals(OK, auth.check(u, basic("prom", "s3cret")));
        assertEquals(before, auth.bcryptRuns(), "the right password is still remembered");
    }

    @Test
    void noConfigLetsEveryoneIn() throws IOException {
        assertEquals(OK, new BasicAuth().check(WebConfig.read(file("")).users(), null));
        assertEquals(OK, new BasicAuth().check(WebConfig.NONE.users(), null));
    }

    @Test
    void aMissingFileSaysSo() {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(dir.resolve("absent.yml")));
        assertEquals("--web-config: cannot read web config " + dir.resolve("absent.yml") + ": no such file", e.getMessage());
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=a", "-keyout", "a.key", "-out", "a.pem");
        openssl(dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=b",
                "-keyout", "b.key", "-out", "b.pem");
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=c", "-keyout", "c.key", "-out", "c.pem");
        for (String pair : List.of("a.pem b.key", "b.pem a.key", "a.pem c.key")) {
            String[] p = pair.split(" ");
            Path f = file("tls_server_config:\n  cert_file: " + p[0] + "\n  key_file: " + p[1] + "\n");
            BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(f), pair);
            assertEquals(BpfchargeException.Exit.USAGE, e.exit());
            assertTrue(e.getMessage().contains("is not the private key of cert_file"), e.getMessage());
        }
        for (String pair : List.of("a.pem a.key", "b.pem b.key"))
            assertEquals(WebConfig.ClientAuth.NONE, WebConfig.read(file("tls_server_config:\n  cert_file: " + pair.split(" ")[0]
                    + "\n  key_file: " + pair.split(" ")[1] + "\n")).tls().clientAuth(), pair);
    }

    @Test
    void refusesWhatItCannotHonourWithOneLine() throws IOException {
        for (String bad : List.of("tls_server_config:\n  cert_file: c\n  key_file: k\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                "basic_auth_users:\n  prom: plaintext\n", "something_else: 1\n", "tls_server_config:\n  cert_file: c\n",
                "http_server_config:\n  headers: {X-Frame-Options: deny}\n", "[1, 2]\n", "a: [\n")) {
            BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(file(bad)), bad);
            assertEquals(BpfchargeException.Exit.USAGE, e.exit());
            assertTrue(e.getMessage().startsWith("--web-config: "), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    /**
     * Settings that would silently not be in force, on a real certificate and key so that nothing else fails first:
     * a CA without a client_auth_type that checks client certificates (mutual TLS off), and a min_version of TLS 1.0
     * or 1.1, which the JDK disables.
     */
    @Test
    void settingsThatWouldSilentlyNotBeInForceAreRefused() throws Exception {
        selfSigned(dir);
        Map<String, String> refused = Map.of(
                "  client_ca_file: cert.pem\n", "client_ca_file is set but client_auth_type is not",
                "  client_auth_type: NoClientCert\n  client_ca_file: cert.pem\n", "client_ca_file is set but client_auth_type is NoClientCert",
                "  min_version: TLS10\n", "min_version TLS10 cannot be honoured",
                "  min_version: TLS11\n", "min_version TLS11 cannot be honoured");
        for (Map.Entry<String, String> c : refused.entrySet()) {
            Path f = Files.writeString(dir.resolve("web.yml"), "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n" + c.getKey());
            BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(f), c.getKey());
            assertEquals(BpfchargeException.Exit.USAGE, e.exit());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
        }
    }

    @Test
    void loadsPemCertificateAndKeysRelativeToTheFile() throws Exception {
        for (String keyKind : List.of("pkcs8", "rsa")) {
            Path sub = Files.createDirectories(dir.resolve(keyKind));
            selfSigned(sub);
            if (keyKind.equals("rsa")) openssl(sub, "rsa", "-in", "key.pem", "-traditional", "-out", "key.pem");
            assertEquals(keyKind.equals("rsa"), Files.readString(sub.resolve("key.pem")).contains("BEGIN RSA PRIVATE KEY"));
            Path f = Files.writeString(sub.resolve("web.yml"), """
                    tls_server_config:
                      cert_file: cert.pem
                      key_file: key.pem
                      client_auth_type: RequireAndVerifyClientCert
                      client_ca_file: cert.pem
                      min_version: TLS13
                    """);
            WebConfig c = WebConfig.read(f);
            assertEquals(WebConfig.ClientAuth.NEED, c.tls().clientAuth());
            assertEquals(List.of("TLSv1.3"), c.tls().protocols());
        }
    }

    /** key.pem and cert.pem (RSA, CN=localhost) in {@code dir}. */
    static void selfSigned(Path dir) throws Exception {
        openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-keyout", "key.pem", "-out", "cert.pem");
    }

    static void openssl(Path dir, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
    }
}
