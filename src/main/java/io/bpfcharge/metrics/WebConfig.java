package io.bpfcharge.metrics;

import io.bpfcharge.Mappers;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.Suggestions;
import com.fasterxml.jackson.databind.JsonNode;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Prometheus' web configuration file (the exporter-toolkit format): {@code tls_server_config} for
 * TLS and client certificates, {@code basic_auth_users} with bcrypt hashes. Keys this daemon cannot
 * honour are refused rather than ignored, so that nobody believes a setting is in force when it is not.
 */
record WebConfig(Tls tls, Map<String, String> users) {
    static final WebConfig NONE = new WebConfig(null, Map.of());

    /** client_auth_type, as exporter-toolkit (Go's tls.ClientAuthType) means each: whether the server asks, requires, verifies. */
    enum ClientAuth {
        NO_CLIENT_CERT("NoClientCert", false, false, false),
        REQUEST_CLIENT_CERT("RequestClientCert", true, false, false),
        REQUIRE_ANY_CLIENT_CERT("RequireAnyClientCert", true, true, false),
        VERIFY_CLIENT_CERT_IF_GIVEN("VerifyClientCertIfGiven", true, false, true),
        REQUIRE_AND_VERIFY_CLIENT_CERT("RequireAndVerifyClientCert", true, true, true);

        final String yaml;
        final boolean asks, requires, verifies;

        ClientAuth(String yaml, boolean asks, boolean requires, boolean verifies) {
            this.yaml = yaml;
            this.asks = asks;
            this.requires = requires;
            this.verifies = verifies;
        }

        static ClientAuth of(String yaml) {
            if (yaml.isEmpty() || yaml.equals("RequireClientCert")) // exporter-toolkit's default and its old name
                return yaml.isEmpty() ? NO_CLIENT_CERT : REQUIRE_ANY_CLIENT_CERT;
            for (ClientAuth a : values()) if (a.yaml.equals(yaml)) return a;
            throw invalid("tls_server_config.client_auth_type must be one of "
                    + String.join(", ", Arrays.stream(values()).map(a -> a.yaml).toList()));
        }
    }

    /** TLS server settings: the context (key, certificate, client trust) and the per-socket parameters. */
    record Tls(SSLContext context, SSLParameters parameters, ClientAuth clientAuth) implements TlsSockets {
        /** JSSE protocol names (TLSv1.2, TLSv1.3), min_version to max_version. */
        List<String> protocols() { return List.of(parameters.getProtocols()); }

        @Override
        public SSLSocket wrap(Socket accepted) throws IOException {
            SSLSocket ssl = (SSLSocket) context.getSocketFactory().createSocket(accepted, null, true);
            ssl.setUseClientMode(false);
            ssl.setSSLParameters(parameters);
            return ssl;
        }
    }

    private static final Set<String> TOP = Set.of("tls_server_config", "basic_auth_users", "http_server_config");
    private static final Set<String> TLS_KEYS = Set.of("cert_file", "key_file", "client_auth_type", "client_ca_file",
            "min_version", "max_version", "prefer_server_cipher_suites");
    private static final List<String> VERSIONS = List.of("TLS10", "TLS11", "TLS12", "TLS13");

    static WebConfig read(Path file) { return read(file, new ArrayList<>()); }

    /** @param files gets every file this reads, the web config first, each before it is read (a bad one too) */
    static WebConfig read(Path file, List<Path> files) {
        files.add(file);
        JsonNode root;
        try {
            root = Mappers.YAML.readTree(Files.readString(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw invalid("web config " + file + " is not valid YAML (" + Mappers.describe(e) + ")");
        } catch (IOException e) {
            throw invalid("cannot read web config " + file + ": " + why(e));
        }
        if (root == null || root.isMissingNode() || root.isNull()) return NONE;
        if (!root.isObject()) throw invalid("web config " + file + " must be a YAML mapping");
        Path base = file.toAbsolutePath().getParent();
        known(root, TOP, "");
        JsonNode http = root.path("http_server_config");
        if (!http.isMissingNode() && !http.isNull()) {
            known(http, Set.of("http2"), "http_server_config.");
            flag(http, "http_server_config.http2", true); // HTTP/1.1 is served either way: docs/serve-limits.md
        }
        JsonNode tlsNode = root.path("tls_server_config");
        Tls tls = tlsNode.isMissingNode() || tlsNode.isNull() ? null : tls(tlsNode, base, files);
        Map<String, String> users = new LinkedHashMap<>();
        JsonNode auth = root.path("basic_auth_users");
        if (!auth.isMissingNode() && !auth.isNull()) {
            if (!auth.isObject()) throw invalid("basic_auth_users must map user names to bcrypt hashes");
            for (Iterator<Map.Entry<String, JsonNode>> it = auth.fields(); it.hasNext(); ) {
                var e = it.next();
                String hash = e.getValue().asText("");
                if (!hash.matches("\\$2[abxy]?\\$\\d\\d\\$[./A-Za-z0-9]{53}"))
                    throw invalid("basic_auth_users." + e.getKey() + " is not a bcrypt hash: make one with `htpasswd -nBC 10 \"\" | tr -d ':\\n'`");
                users.put(e.getKey(), hash);
            }
        }
        return new WebConfig(tls, Map.copyOf(users));
    }

    /**
     * Keys exporter-toolkit knows that bpfcharge does not serve (inline PEM, cipher and curve lists, SAN checks,
     * headers, rate limits): refused, since running without what the operator configured is worse than not
     * starting. Any other key is a typo.
     */
    private static final Set<String> TOOLKIT_ONLY = Set.of("rate_limit", "cert", "key", "client_ca", "cipher_suites",
            "curve_preferences", "client_allowed_sans", "headers");

    private static void known(JsonNode node, Set<String> keys, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (keys.contains(k)) continue;
            if (TOOLKIT_ONLY.contains(k))
                throw invalid("web config: " + prefix + k + " is not supported by bpfcharge: remove it (supported: "
                        + String.join(", ", keys.stream().sorted().toList()) + ")");
            throw invalid("web config: unknown key " + prefix + BpfchargeException.clip(k) + Suggestions.closest(k, keys)
                    .map(s -> ": did you mean " + prefix + s + "?")
                    .orElse(" (known: " + String.join(", ", keys.stream().sorted().toList()) + ")"));
        }
    }

    private static boolean flag(JsonNode parent, String name, boolean dflt) {
        JsonNode n = parent.path(name.substring(name.lastIndexOf('.') + 1));
        if (n.isMissingNode() || n.isNull()) return dflt;
        if (!n.isBoolean()) throw invalid(name + " must be true or false");
        return n.booleanValue();
    }

    private static Tls tls(JsonNode n, Path base, List<Path> files) {
        known(n, TLS_KEYS, "tls_server_config.");
        String cert = n.path("cert_file").asText(""), key = n.path("key_file").asText("");
        if (cert.isEmpty() || key.isEmpty())
            throw invalid("tls_server_config needs both cert_file and key_file");
        ClientAuth auth = ClientAuth.of(n.path("client_auth_type").asText(""));
        String ca = n.path("client_ca_file").asText("");
        // exporter-toolkit refuses this too: an operator who gave a CA believes client certificates are checked.
        if (auth == ClientAuth.NO_CLIENT_CERT && !ca.isEmpty())
            throw invalid("tls_server_config.client_ca_file is set but client_auth_type is " + n.path("client_auth_type")
                    .asText("not") + ", so no client certificate would be checked: add client_auth_type: "
                    + "RequireAndVerifyClientCert (or remove client_ca_file)");
        // exporter-toolkit loads the CA and then verifies nothing with it: refused here, for the same reason.
        if (auth.asks && !auth.verifies && !ca.isEmpty())
            throw invalid("tls_server_config.client_ca_file is set but client_auth_type " + auth.yaml + " accepts any client "
                    + "certificate unverified: use VerifyClientCertIfGiven or RequireAndVerifyClientCert (or remove client_ca_file)");
        if (auth.verifies && ca.isEmpty())
            throw invalid("tls_server_config.client_auth_type " + auth.yaml + " needs client_ca_file (the CAs client certificates must chain to)");
        int min = version(n, "min_version", "TLS12"), max = version(n, "max_version", "TLS13");
        if (min > max) throw invalid("tls_server_config.min_version is above max_version");
        // The JDK disables TLS 1.0 and 1.1 (jdk.tls.disabledAlgorithms): accepted, they would be silently off.
        if (min < 2) throw invalid("tls_server_config.min_version " + VERSIONS.get(min) + " cannot be honoured: this "
                + "Java runtime disables TLS 1.0 and 1.1; use TLS12 or TLS13");
        boolean serverOrder = flag(n, "tls_server_config.prefer_server_cipher_suites", true); // exporter-toolkit's default
        List<String> protocols = new ArrayList<>();
        for (int v = min; v <= max; v++) protocols.add("TLSv1." + v);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = new char[0];
            Path certFile = resolve(base, cert), keyFile = resolve(base, key);
            files.add(certFile);
            List<Certificate> chain = certificates(certFile);
            files.add(keyFile);
            PrivateKey pk = privateKey(keyFile);
            if (!signsFor(pk, chain.getFirst().getPublicKey()))
                throw invalid("tls_server_config: key_file " + keyFile + " is not the private key of cert_file "
                        + certFile + " (its first certificate): give the key the certificate was made for");
            ks.setKeyEntry("server", pk, pw, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            TrustManager[] trust = null; // no client certificate asked for: never consulted
            if (auth.verifies) {
                KeyStore cas = KeyStore.getInstance("PKCS12");
                cas.load(null, null);
                int i = 0;
                Path caFile = resolve(base, ca);
                files.add(caFile);
                for (Certificate c : certificates(caFile)) cas.setCertificateEntry("ca" + i++, c);
                TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(cas);
                trust = tmf.getTrustManagers();
            } else if (auth.asks) {
                trust = new TrustManager[]{AnyClientCertificate.INSTANCE};
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), trust, null);
            // A client-initiated renegotiation costs the server a handshake (about 10 ms of CPU) for nothing: refuse
            // it. JSSE reads this once, at the first server handshake, which is after this.
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
            SSLParameters p = ctx.getDefaultSSLParameters();
            p.setProtocols(protocols.toArray(String[]::new));
            p.setUseCipherSuitesOrder(serverOrder);
            if (auth.requires) p.setNeedClientAuth(true);
            else if (auth.asks) p.setWantClientAuth(true);
            return new Tls(ctx, p, auth);
        } catch (GeneralSecurityException | IOException e) {
            throw invalid("tls_server_config: " + e.getMessage());
        }
    }

    private static int version(JsonNode n, String field, String dflt) {
        String v = n.path(field).asText(dflt);
        int i = VERSIONS.indexOf(v);
        if (i < 0) throw invalid("tls_server_config." + field + " must be one of " + String.join(", ", VERSIONS));
        return i; // TLS1i
    }

    private static Path resolve(Path base, String file) {
        Path p = Path.of(file);
        return p.isAbsolute() || base == null ? p : base.resolve(p);
    }

    private static List<Certificate> certificates(Path file) {
        try {
            var certs = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)));
            if (certs.isEmpty()) throw invalid("no certificate in " + file);
            return List.copyOf(certs);
        } catch (IOException | GeneralSecurityException e) {
            throw invalid("cannot read certificates from " + file + ": " + (e instanceof IOException io ? why(io) : e.getMessage()));
        }
    }

    private static PrivateKey privateKey(Path file) {
        try {
            return PemKeys.read(Files.readString(file));
        } catch (IOException e) {
            throw invalid("cannot read key_file " + file + ": " + why(e));
        } catch (PemKeys.Unusable e) {
            throw invalid("key_file " + file + " " + e.getMessage());
        }
    }

    /** A bad file is bad input: one line saying what is wrong and what to do, exit code USAGE. */
    private static BpfchargeException invalid(String message) {
        return new BpfchargeException(BpfchargeException.Exit.USAGE, "--web-config: " + message);
    }

    /**
     * Whether a signature by {@code key} verifies with {@code pub}: the key pair check Go's
     * tls.X509KeyPair makes (Prometheus refuses a mismatched pair at start), for any key type.
     */
    private static boolean signsFor(PrivateKey key, PublicKey pub) {
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // EdDSA, Ed25519
        };
        byte[] probe = "bpfcharge key pair check".getBytes(StandardCharsets.UTF_8);
        try {
            Signature sign = Signature.getInstance(alg);
            sign.initSign(key);
            sign.update(probe);
            Signature verify = Signature.getInstance(alg);
            verify.initVerify(pub);
            verify.update(probe);
            return verify.verify(sign.sign());
        } catch (GeneralSecurityException e) {
            return false; // e.g. an RSA key for an EC certificate
        }
    }

    /** The reason in words: the JDK's NoSuchFileException message is only the path again. */
    private static String why(IOException e) {
        return switch (e) {
            case NoSuchFileException x -> "no such file";
            case AccessDeniedException x -> "permission denied";
            case FileSystemException x when x.getReason() != null -> x.getReason();
            default -> String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        };
    }
}
