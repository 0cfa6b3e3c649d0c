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
        BasicAuth auth = new BasicAuth(1024, UNHURRIED);
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
        BasicAuth auth = new BasicAuth(1024, UNHURRIED);
        assertEquals(OK, auth.check(Map.of("prom", old), basic("prom", "old-one")));
        assertEquals(DENIED, auth.check(Map.of("prom", old), basic("prom", "new-one")));
        assertEquals(DENIED, auth.check(Map.of("prom", rotated), basic("prom", "old-one")));
        assertEquals(OK, auth.check(Map.of("prom", rotated), basic("prom", "new-one")));
        assertEquals(DENIED, auth.check(Map.of("ops", rotated), basic("prom", "new-one")), "a removed user");
    }

    /**
     * Verdicts and caching, not timing: with the product's 2 s wait, a cost-10 bcrypt (an unknown user's) answered
     * BUSY here once, in a CI run with two busy loops at load average 17 (the request waited longer than 2 s).
     */
    static final java.time.Duration UNHURRIED = java.time.Duration.ofMinutes(5);

    @Test
    void aWrongPasswordCostsOneBcryptAndCannotEvictARightOne() throws IOException {
        String hash = BCrypt.with(BCrypt.Version.VERSION_2Y).hashToString(4, "s3cret".toCharArray());
        Map<String, String> u = WebConfig.read(file("basic_auth_users:\n  prom: " + hash + "\n")).users();
        BasicAuth auth = new BasicAuth(16, UNHURRIED);
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
            assertEquals(WebConfig.ClientAuth.NO_CLIENT_CERT, WebConfig.read(file("tls_server_config:\n  cert_file: " + pair.split(" ")[0]
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

    /** A typo is named as one, with the key meant; a key exporter-toolkit has and bpfcharge lacks, as that. */
    @Test
    void aTypoGetsTheKeyItMeant() throws IOException {
        for (var c : Map.of(
                "basic_auth_user:\n  prom: x\n", "unknown key basic_auth_user: did you mean basic_auth_users?",
                "tls_server_config:\n  cert_fil: c\n", "unknown key tls_server_config.cert_fil: did you mean tls_server_config.cert_file?",
                "http_server_config:\n  htp2: true\n", "unknown key http_server_config.htp2: did you mean http_server_config.http2?",
                "zzz: 1\n", "unknown key zzz (known: basic_auth_users, http_server_config, tls_server_config)",
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  curve_preferences: [X25519]\n",
                "tls_server_config.curve_preferences is not supported by bpfcharge: remove it").entrySet()) {
            BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(file(c.getKey())), c.getKey());
            assertEquals(BpfchargeException.Exit.USAGE, e.exit());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
        }
    }

    /** Go's strict YAML decoding (exporter-toolkit) refuses a key given twice; which one would win is a guess. */
    @Test
    void aKeyGivenTwiceIsRefused() throws IOException {
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(file(
                "basic_auth_users:\n  prom: x\nbasic_auth_users:\n  ops: y\n")));
        assertEquals(BpfchargeException.Exit.USAGE, e.exit());
        assertTrue(e.getMessage().contains("key 'basic_auth_users' given twice, at line 3"), e.getMessage());
    }

    /**
     * Settings that would silently not be in force, on a real certificate and key so that nothing else fails first:
     * a CA without a client_auth_type that checks client certificates (mutual TLS off), a CA with one that asks for a
     * certificate but verifies none (exporter-toolkit loads it and ignores it), a verifying one without a CA, a
     * min_version of TLS 1.0 or 1.1, which the JDK disables, and switches that are not true or false.
     */
    @Test
    void settingsThatWouldSilentlyNotBeInForceAreRefused() throws Exception {
        selfSigned(dir);
        Map<String, String> refused = Map.ofEntries(Map.entry(
                "  client_auth_type: RequireAnyClientCert\n  client_ca_file: cert.pem\n", "RequireAnyClientCert accepts any client certificate unverified"), Map.entry(
                "  client_auth_type: RequestClientCert\n  client_ca_file: cert.pem\n", "RequestClientCert accepts any client certificate unverified"), Map.entry(
                "  client_auth_type: VerifyClientCertIfGiven\n", "VerifyClientCertIfGiven needs client_ca_file"), Map.entry(
                "  client_auth_type: RequireAndVerifyClientCert\n", "RequireAndVerifyClientCert needs client_ca_file"), Map.entry(
                "  client_auth_type: requireany\n", "client_auth_type must be one of NoClientCert, RequestClientCert"), Map.entry(
                "  prefer_server_cipher_suites: maybe\n", "prefer_server_cipher_suites must be true or false"), Map.entry(
                "http_server_config:\n  http2: 2\n", "http_server_config.http2 must be true or false"), Map.entry(
                "  client_ca_file: cert.pem\n", "client_ca_file is set but client_auth_type is not"), Map.entry(
                "  client_auth_type: NoClientCert\n  client_ca_file: cert.pem\n", "client_ca_file is set but client_auth_type is NoClientCert"), Map.entry(
                "  min_version: TLS10\n", "min_version TLS10 cannot be honoured"), Map.entry(
                "  min_version: TLS11\n", "min_version TLS11 cannot be honoured"));
        for (Map.Entry<String, String> c : refused.entrySet()) {
            Path f = Files.writeString(dir.resolve("web.yml"), "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n" + c.getKey());
            BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(f), c.getKey());
            assertEquals(BpfchargeException.Exit.USAGE, e.exit());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
        }
    }

    /** What each client_auth_type asks of JSSE: exporter-toolkit verifies no chain for RequestClientCert and RequireAnyClientCert. */
    @Test
    void clientAuthTypesMeanWhatTheyMeanInExporterToolkit() throws Exception {
        selfSigned(dir);
        record Expect(String yaml, boolean want, boolean need, boolean ca) {}
        for (Expect x : List.of(new Expect("NoClientCert", false, false, false), new Expect("RequestClientCert", true, false, false),
                new Expect("RequireAnyClientCert", true, true, false), new Expect("RequireClientCert", true, true, false),
                new Expect("VerifyClientCertIfGiven", true, false, true), new Expect("RequireAndVerifyClientCert", true, true, true))) {
            WebConfig.Tls t = WebConfig.read(file("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  client_auth_type: "
                    + x.yaml + "\n" + (x.ca ? "  client_ca_file: cert.pem\n" : ""))).tls();
            // JSSE: need implies asking; want alone asks without requiring.
            assertEquals(x.need, t.parameters().getNeedClientAuth(), x.yaml);
            assertEquals(x.want && !x.need, t.parameters().getWantClientAuth(), x.yaml);
            assertEquals(x.ca, t.clientAuth().verifies, x.yaml);
        }
    }

    @Test
    void preferServerCipherSuitesSetsJsseCipherOrder() throws Exception {
        selfSigned(dir);
        for (String v : List.of("true", "false"))
            assertEquals(Boolean.parseBoolean(v), WebConfig.read(file("tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n"
                    + "  prefer_server_cipher_suites: " + v + "\n")).tls().parameters().getUseCipherSuitesOrder(), v);
    }

    @Test
    void anEncryptedKeyIsRefusedWithWhatToDo() throws Exception {
        selfSigned(dir);
        openssl(dir, "pkey", "-in", "key.pem", "-aes256", "-passout", "pass:x", "-out", "enc.pem");
        BpfchargeException e = assertThrows(BpfchargeException.class, () -> WebConfig.read(file(
                "tls_server_config:\n  cert_file: cert.pem\n  key_file: enc.pem\n")));
        assertTrue(e.getMessage().contains("enc.pem is encrypted: decrypt it with `openssl pkey"), e.getMessage());
    }

    @Test
    void loadsPemCertificateAndKeysRelativeToTheFile() throws Exception {
        for (String keyKind : List.of("pkcs8", "rsa", "sec1-p256", "sec1-p384")) {
            Path sub = Files.createDirectories(dir.resolve(keyKind));
            if (keyKind.startsWith("sec1")) { // as `openssl ecparam -genkey` writes it: an EC PARAMETERS block, then the key
                openssl(sub, "ecparam", "-genkey", "-name", keyKind.endsWith("256") ? "prime256v1" : "secp384r1", "-out", "key.pem");
                openssl(sub, "req", "-x509", "-new", "-key", "key.pem", "-days", "1", "-subj", "/CN=localhost", "-out", "cert.pem");
                assertTrue(Files.readString(sub.resolve("key.pem")).matches("(?s)-----BEGIN EC PARAMETERS-----.*-----BEGIN EC PRIVATE KEY-----.*"));
            } else {
                selfSigned(sub);
            }
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
            assertEquals(WebConfig.ClientAuth.REQUIRE_AND_VERIFY_CLIENT_CERT, c.tls().clientAuth());
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
