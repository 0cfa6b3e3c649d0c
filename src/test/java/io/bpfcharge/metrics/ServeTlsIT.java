package io.bpfcharge.metrics;

import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.bpfcharge.metrics.TlsClients.assertStatus;
import static io.bpfcharge.metrics.TlsClients.curl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's TLS settings from a web config, met by curl and openssl s_client: client certificates
 * as exporter-toolkit's five client_auth_types treat them, cipher order, a key as `openssl ecparam`
 * writes it.
 */
@KernelTest
@HostOnly // TLS is the same on every kernel
class ServeTlsIT {
    @TempDir Path dir;

    private Daemon serve(String tlsSettings) throws Exception {
        Path web = Files.writeString(dir.resolve("web.yml"), "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n" + tlsSettings);
        return new Daemon(Map.of(), "--web.config.file", web.toString()); // node_exporter's spelling of --web-config
    }

    /**
     * No certificate, one the CA issued, a self-signed stranger's, against each client_auth_type: exporter-toolkit
     * (Go's tls) verifies no chain for RequestClientCert and RequireAnyClientCert, and asks for none with NoClientCert.
     */
    @Test
    void clientAuthTypesMeanWhatTheyMeanInExporterToolkit() throws Exception {
        TlsClients.ca(dir, "ca");
        TlsClients.issue(dir, "server", "ca");
        TlsClients.issue(dir, "client", "ca");
        TlsClients.issue(dir, "stranger", null);
        record Case(String type, boolean ca, String none, String issued, String stranger) {}
        String ok = "200", refused = "000";
        for (Case c : List.of(new Case("NoClientCert", false, ok, ok, ok),
                new Case("RequestClientCert", false, ok, ok, ok),
                new Case("RequireAnyClientCert", false, refused, ok, ok),
                new Case("VerifyClientCertIfGiven", true, ok, ok, refused),
                new Case("RequireAndVerifyClientCert", true, refused, ok, refused))) {
            try (Daemon d = serve("  client_auth_type: " + c.type + "\n" + (c.ca ? "  client_ca_file: ca.pem\n" : ""))) {
                String ca = dir.resolve("ca.pem").toString();
                assertStatus(c.none, curl(d.uri("/metrics"), "--cacert", ca), c.type + ", no client certificate");
                for (String client : List.of("client", "stranger"))
                    assertStatus(client.equals("client") ? c.issued : c.stranger, curl(d.uri("/metrics"), "--cacert", ca,
                            "--cert", dir.resolve(client + ".pem").toString(), "--key", dir.resolve(client + ".key").toString()),
                            c.type + ", the " + client + "'s certificate");
            }
        }
    }

    /**
     * prefer_server_cipher_suites: false lets the client's order choose (JSSE's default is the server's). The client
     * offers AES-128 first; the JDK ranks AES-256 first.
     */
    @Test
    void preferServerCipherSuitesDecidesWhoseOrderCounts() throws Exception {
        WebConfigTest.openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", "server.key", "-out", "server.pem");
        for (boolean prefer : List.of(false, true)) {
            try (Daemon d = serve("  max_version: TLS12\n  prefer_server_cipher_suites: " + prefer + "\n")) {
                String out = TlsClients.sClient(d.base.getAuthority(), "-tls1_2", "-cipher",
                        "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384");
                String chosen = prefer ? "ECDHE-RSA-AES256-GCM-SHA384" : "ECDHE-RSA-AES128-GCM-SHA256";
                assertTrue(out.contains("Cipher is " + chosen), "prefer_server_cipher_suites: " + prefer + "\n" + out);
            }
        }
    }

    /**
     * A node_exporter config as many are: a SEC1 EC key from `openssl ecparam -genkey` (an EC PARAMETERS block, then
     * EC PRIVATE KEY) and http2: true, which bpfcharge accepts and serves HTTP/1.1 under (curl --http2 falls back by ALPN).
     */
    @Test
    void aNodeExporterConfigWithAnEcKeyAndHttp2Serves() throws Exception {
        WebConfigTest.openssl(dir, "ecparam", "-genkey", "-name", "prime256v1", "-out", "server.key");
        assertTrue(Files.readString(dir.resolve("server.key")).contains("-----BEGIN EC PRIVATE KEY-----"));
        WebConfigTest.openssl(dir, "req", "-x509", "-new", "-key", "server.key", "-days", "1", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=IP:127.0.0.1", "-out", "server.pem");
        try (Daemon d = serve("http_server_config:\n  http2: true\n")) {
            TlsClients.Reply r = curl(d.uri("/metrics"), "--http2", "--cacert", dir.resolve("server.pem").toString());
            assertStatus("200", r, "EC key, curl --http2");
            assertEquals("1.1", r.httpVersion(), "HTTP/2 is not served: ALPN settles on HTTP/1.1");
            assertTrue(Scrape.parse(r.body()).find("bpfcharge_maps").isPresent());
            assertEquals(TlsClients.fingerprint(Files.readString(dir.resolve("server.pem"))), TlsClients.served(d.base.getAuthority()));
            assertTrue(TlsClients.sClient(d.base.getAuthority()).contains("Peer signature type: ECDSA"));
        }
    }
}
