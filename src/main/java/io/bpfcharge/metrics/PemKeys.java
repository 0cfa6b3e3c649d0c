package io.bpfcharge.metrics;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The private key of a PEM key_file, in the forms Go's tls.X509KeyPair reads: PKCS#8 ("PRIVATE KEY"),
 * PKCS#1 RSA ("RSA PRIVATE KEY") and SEC1 EC ("EC PRIVATE KEY", as {@code openssl ecparam -genkey}
 * writes it, after an "EC PARAMETERS" block). The first key block counts, other blocks are skipped.
 * The JDK reads PKCS#8 only: the other two are wrapped into it here (a few DER bytes, no library).
 */
final class PemKeys {
    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    /** AlgorithmIdentifier rsaEncryption with NULL parameters. */
    private static final byte[] RSA_ALGORITHM = HexFormat.of().parseHex("300d06092a864886f70d0101010500");
    /** OID id-ecPublicKey (1.2.840.10045.2.1); its parameters are the curve, taken from the SEC1 key. */
    private static final byte[] EC_PUBLIC_KEY = HexFormat.of().parseHex("06072a8648ce3d0201");
    private static final byte[] VERSION_0 = {0x02, 0x01, 0x00};

    /** Why a key file cannot be used, in words for the operator. */
    static final class Unusable extends Exception {
        Unusable(String message) { super(message); }
    }

    private PemKeys() {}

    static PrivateKey read(String pem) throws Unusable {
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String label = m.group(1), body = m.group(2);
            if (!label.endsWith("PRIVATE KEY")) continue;
            if (label.equals("ENCRYPTED PRIVATE KEY") || body.contains("Proc-Type:"))
                throw new Unusable("is encrypted: decrypt it with `openssl pkey -in KEY -out KEY.plain`");
            byte[] der;
            try {
                der = Base64.getMimeDecoder().decode(body.strip());
            } catch (IllegalArgumentException e) {
                throw new Unusable("holds a " + label + " block that is not base64");
            }
            return switch (label) {
                case "PRIVATE KEY" -> pkcs8(der);
                case "RSA PRIVATE KEY" -> pkcs8(sequence(VERSION_0, RSA_ALGORITHM, tlv(0x04, der)));
                case "EC PRIVATE KEY" -> pkcs8(sequence(VERSION_0, sequence(EC_PUBLIC_KEY, curve(der)), tlv(0x04, der)));
                default -> throw new Unusable("holds a " + label + ", not an RSA, EC or Ed25519 key");
            };
        }
        throw new Unusable("holds no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY)");
    }

    private static PrivateKey pkcs8(byte[] der) throws Unusable {
        for (String alg : List.of("RSA", "EC", "Ed25519", "Ed448")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException | RuntimeException e) {
                // not this algorithm: try the next
            }
        }
        throw new Unusable("holds no RSA, EC or EdDSA private key this Java runtime can read");
    }

    /**
     * The curve of a SEC1 ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING,
     * parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }: the [0] content.
     */
    private static byte[] curve(byte[] sec1) throws Unusable {
        try {
            int[] outer = header(sec1, 0);
            if (sec1[0] != 0x30) throw new IndexOutOfBoundsException();
            for (int at = outer[0]; at < outer[1]; ) {
                int[] h = header(sec1, at);
                if ((sec1[at] & 0xff) == 0xa0) return Arrays.copyOfRange(sec1, h[0], h[1]);
                at = h[1];
            }
        } catch (IndexOutOfBoundsException e) {
            throw new Unusable("holds an EC PRIVATE KEY that is not DER");
        }
        throw new Unusable("holds an EC PRIVATE KEY without its curve: write it with `openssl pkcs8 -topk8 -nocrypt`");
    }

    /** {content start, content end} of the DER element at {@code at}. */
    private static int[] header(byte[] der, int at) {
        int len = der[at + 1] & 0xff, start = at + 2;
        if (len > 0x80 && len <= 0x83) {
            int n = len - 0x80;
            len = 0;
            for (int i = 0; i < n; i++) len = len << 8 | der[start++] & 0xff;
        } else if (len >= 0x80) {
            throw new IndexOutOfBoundsException("indefinite or over-long length");
        }
        if (start + len > der.length) throw new IndexOutOfBoundsException("truncated");
        return new int[]{start, start + len};
    }

    private static byte[] sequence(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) n += p.length;
        byte[] body = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, body, at, p.length);
            at += p.length;
        }
        return tlv(0x30, body);
    }

    private static byte[] tlv(int tag, byte[] content) {
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
}
