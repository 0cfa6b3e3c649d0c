package io.bpfcharge.metrics;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real TLS clients of the web config tests, curl and openssl s_client, and the certificates they meet. */
final class TlsClients {
    /** What curl got: {@code status} "000" and a non-zero {@code exit} when there was no HTTP answer. */
    record Reply(int exit, String status, String httpVersion, String body, String err) {}

    private static final Pattern WRITE_OUT = Pattern.compile("\\[status (\\d{3}) version ([\\d.]+)]");
    private static final Pattern PEM_CERT = Pattern.compile("-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", Pattern.DOTALL);

    private TlsClients() {}

    /** curl {@code uri} with {@code args} (e.g. --cacert, --cert, -u), within 20 s. */
    static Reply curl(URI uri, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "-w", "%{stderr}[status %{http_code} version %{http_version}]"));
        cmd.addAll(List.of(args));
        cmd.add(uri.toString());
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        var err = p.getErrorStream();
        String body = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String e = new String(err.readAllBytes(), StandardCharsets.UTF_8);
        int exit = p.waitFor();
        Matcher m = WRITE_OUT.matcher(e);
        assertTrue(m.find(), "curl wrote no status: " + e);
        return new Reply(exit, m.group(1), m.group(2), body, e);
    }

    /** Runs openssl s_client against {@code authority} with {@code args}; its stdin is empty, so it ends after the handshake. */
    static String sClient(String authority, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("openssl", "s_client", "-connect", authority));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "s_client did not end");
        return out;
    }

    /** SHA-256 of the first certificate in PEM {@code text} (hex). */
    static String fingerprint(String text) {
        Matcher m = PEM_CERT.matcher(text);
        assertTrue(m.find(), "no certificate in:\n" + text);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Base64.getMimeDecoder().decode(m.group(1).strip())));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The fingerprint of the certificate the server at {@code authority} presents. */
    static String served(String authority) throws IOException, InterruptedException {
        return fingerprint(sClient(authority));
    }

    /** NAME.key and NAME.pem in {@code dir}: a CA. */
    static void ca(Path dir, String name) throws Exception {
        WebConfigTest.openssl(dir, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=" + name,
                "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign",
                "-keyout", name + ".key", "-out", name + ".pem");
    }

    /** NAME.key and NAME.pem in {@code dir}: an EC P-256 certificate for 127.0.0.1, issued by CA (its .pem and .key), or self-signed when CA is null. */
    static void issue(Path dir, String name, String ca) throws Exception {
        WebConfigTest.openssl(dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key");
        if (ca == null) {
            WebConfigTest.openssl(dir, "req", "-x509", "-new", "-key", name + ".key", "-days", "1", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=IP:127.0.0.1", "-out", name + ".pem");
            return;
        }
        WebConfigTest.openssl(dir, "req", "-new", "-key", name + ".key", "-subj", "/CN=" + name, "-out", name + ".csr");
        Path ext = Files.writeString(dir.resolve(name + ".ext"), "subjectAltName=IP:127.0.0.1\n");
        WebConfigTest.openssl(dir, "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial",
                "-days", "1", "-extfile", ext.getFileName().toString(), "-out", name + ".pem");
    }

    /** Replaces {@code target} with {@code text} by a rename, as kubelet and cert-manager replace files (a new inode). */
    static void replace(Path target, String text) throws IOException {
        Path tmp = Files.writeString(target.resolveSibling(target.getFileName() + ".new"), text);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void assertStatus(String expected, Reply r, String what) {
        assertEquals(expected, r.status(), what + ": " + r.err());
    }
}
