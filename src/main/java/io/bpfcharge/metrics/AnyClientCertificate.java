package io.bpfcharge.metrics;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * Accepts any client certificate chain unverified: exporter-toolkit's RequestClientCert and
 * RequireAnyClientCert (Go's tls package verifies no chain for them). The handshake still proves the
 * client holds the certificate's key (CertificateVerify). An X509ExtendedTrustManager, so that JSSE
 * does not wrap it in checks of its own. It never trusts a server: this side is only ever the server.
 */
final class AnyClientCertificate extends X509ExtendedTrustManager {
    static final AnyClientCertificate INSTANCE = new AnyClientCertificate();

    private AnyClientCertificate() {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {}

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("the exporter trusts no server");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    /** No names in the CertificateRequest: the client may send whatever certificate it has. */
    @Override
    public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
}
