package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
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

    /** client_auth_type: none, want (verify if given) or need (required and verified). */
    enum ClientAuth { NONE, WANT, NEED }

    /** TLS server settings; protocols are JSSE names (TLSv1.2, TLSv1.3) between min and max. */
    record Tls(SSLContext context, ClientAuth clientAuth, List<String> protocols) {
        SSLParameters parameters() {
            // A client-initiated renegotiation costs the server a handshake (about 10 ms of CPU) for nothing: refuse
            // it. JSSE reads this once, at the first server handshake, which is after this.
            System.setProperty("jdk.tls.rejectClientInitiatedRenegotiation", "true");
            SSLParameters p = context.getDefaultSSLParameters();
            p.setProtocols(protocols.toArray(String[]::new));
            if (clientAuth == ClientAuth.NEED) p.setNeedClientAuth(true);
            else if (clientAuth == ClientAuth.WANT) p.setWantClientAuth(true);
            return p;
        }
    }

    private static final Set<String> TOP = Set.of("tls_server_config", "basic_auth_users", "http_server_config");
    private static final Set<String> TLS_KEYS = Set.of("cert_file", "key_file", "client_auth_type", "client_ca_file",
            "min_version", "max_version", "prefer_server_cipher_suites");
    private static final List<String> VERSIONS = List.of("TLS10", "TLS11", "TLS12", "TLS13");

    static WebConfig read(Path file) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
        } catch (IOException e) {
            throw invalid("cannot read web config " + file + ": " + why(e));
        }
        if (root == null || root.isMissingNode() || root.isNull()) return NONE;
        if (!root.isObject()) throw invalid("web config " + file + " must be a YAML mapping");
        Path base = file.toAbsolutePath().getParent();
        known(root, TOP, "");
        JsonNode http = root.path("http_server_config");
        if (!http.isMissingNode() && !http.isNull()) known(http, Set.of("http2"), "http_server_config.");
        JsonNode tlsNode = root.path("tls_server_config");
        Tls tls = tlsNode.isMissingNode() || tlsNode.isNull() ? null : tls(tlsNode, base);
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

    private static void known(JsonNode node, Set<String> keys, String prefix) {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!keys.contains(k))
                throw invalid("web config: " + prefix + k + " is not supported by bpfcharge: remove it (supported: "
                        + String.join(", ", keys.stream().sorted().toList()) + ")");
        }
    }

    private static Tls tls(JsonNode n, Path base) {
        known(n, TLS_KEYS, "tls_server_config.");
        String cert = n.path("cert_file").asText(""), key = n.path("key_file").asText("");
        if (cert.isEmpty() || key.isEmpty())
            throw invalid("tls_server_config needs both cert_file and key_file");
        ClientAuth auth = switch (n.path("client_auth_type").asText("NoClientCert")) {
            case "NoClientCert" -> ClientAuth.NONE;
            case "RequestClientCert", "VerifyClientCertIfGiven" -> ClientAuth.WANT;
            case "RequireAnyClientCert", "RequireAndVerifyClientCert" -> ClientAuth.NEED;
            default -> throw invalid("tls_server_config.client_auth_type must be one of NoClientCert, RequestClientCert, "
                    + "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert");
        };
        String ca = n.path("client_ca_file").asText("");
        // exporter-toolkit refuses this too: an operator who gave a CA believes client certificates are checked.
        if (auth == ClientAuth.NONE && !ca.isEmpty())
            throw invalid("tls_server_config.client_ca_file is set but client_auth_type is " + n.path("client_auth_type")
                    .asText("not") + ", so no client certificate would be checked: add client_auth_type: "
                    + "RequireAndVerifyClientCert (or remove client_ca_file)");
        if (auth != ClientAuth.NONE && ca.isEmpty())
            throw invalid("tls_server_config.client_auth_type " + n.path("client_auth_type").asText() + " needs client_ca_file");
        int min = version(n, "min_version", "TLS12"), max = version(n, "max_version", "TLS13");
        if (min > max) throw invalid("tls_server_config.min_version is above max_version");
        // The JDK disables TLS 1.0 and 1.1 (jdk.tls.disabledAlgorithms): accepted, they would be silently off.
        if (min < 2) throw invalid("tls_server_config.min_version " + VERSIONS.get(min) + " cannot be honoured: this "
                + "Java runtime disables TLS 1.0 and 1.1; use TLS12 or TLS13");
        List<String> protocols = new ArrayList<>();
        for (int v = min; v <= max; v++) protocols.add("TLSv1." + v);
        protocols.replaceAll(p -> p.equals("TLSv1.0") ? "TLSv1" : p);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            char[] pw = new char[0];
            PrivateKey pk = privateKey(resolve(base, key));
            List<Certificate> chain = certificates(resolve(base, cert));
            if (!signsFor(pk, chain.getFirst().getPublicKey()))
                throw invalid("tls_server_config: key_file " + resolve(base, key) + " is not the private key of cert_file "
                        + resolve(base, cert) + " (its first certificate): give the key the certificate was made for");
            ks.setKeyEntry("server", pk, pw, chain.toArray(Certificate[]::new));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, pw);
            TrustManagerFactory tmf = null;
            if (!ca.isEmpty()) {
                KeyStore trust = KeyStore.getInstance("PKCS12");
                trust.load(null, null);
                int i = 0;
                for (Certificate c : certificates(resolve(base, ca))) trust.setCertificateEntry("ca" + i++, c);
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(trust);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return new Tls(ctx, auth, List.copyOf(protocols));
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

    /** PKCS#8 ("PRIVATE KEY") or PKCS#1 RSA ("RSA PRIVATE KEY") PEM. */
    private static PrivateKey privateKey(Path file) {
        String pem;
        try {
            pem = Files.readString(file);
        } catch (IOException e) {
            throw invalid("cannot read key_file " + file + ": " + why(e));
        }
        boolean pkcs1 = pem.contains("-----BEGIN RSA PRIVATE KEY-----");
        if (!pkcs1 && !pem.contains("-----BEGIN PRIVATE KEY-----"))
            throw invalid("key_file " + file + " must be an unencrypted PEM PKCS#8 or RSA key: convert it with "
                    + "`openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8`");
        String b64 = pem.replaceAll("-----(BEGIN|END) [A-Z ]+-----", "").replaceAll("\\s", "");
        byte[] der = Base64.getDecoder().decode(b64);
        if (pkcs1) der = pkcs1ToPkcs8(der);
        for (String alg : List.of("RSA", "EC", "Ed25519")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw invalid("key_file " + file + " holds no RSA, EC or Ed25519 private key");
    }

    /** Wraps a PKCS#1 RSAPrivateKey in a PKCS#8 PrivateKeyInfo (version 0, rsaEncryption, NULL). */
    private static byte[] pkcs1ToPkcs8(byte[] pkcs1) {
        byte[] algId = HexFormat.of().parseHex("300d06092a864886f70d0101010500");
        byte[] version = {0x02, 0x01, 0x00};
        byte[] octets = der(0x04, pkcs1);
        byte[] body = new byte[version.length + algId.length + octets.length];
        System.arraycopy(version, 0, body, 0, version.length);
        System.arraycopy(algId, 0, body, version.length, algId.length);
        System.arraycopy(octets, 0, body, version.length + algId.length, octets.length);
        return der(0x30, body);
    }

    private static byte[] der(int tag, byte[] content) {
        int n = content.length;
        byte[] len = n < 128 ? new byte[]{(byte) n}
                : n < 256 ? new byte[]{(byte) 0x81, (byte) n}
                : n < 65536 ? new byte[]{(byte) 0x82, (byte) (n >> 8), (byte) n}
                : new byte[]{(byte) 0x83, (byte) (n >> 16), (byte) (n >> 8), (byte) n};
        byte[] out = new byte[1 + len.length + n];
        out[0] = (byte) tag;
        System.arraycopy(len, 0, out, 1, len.length);
        System.arraycopy(content, 0, out, 1 + len.length, n);
        return out;
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
