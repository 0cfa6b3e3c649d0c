package io.bpfcharge.metrics;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.Socket;

/** Turns an accepted connection into the server side of a TLS one, with the TLS settings in force at that moment. */
interface TlsSockets {
    /** The handshake happens at the first read or write. */
    SSLSocket wrap(Socket accepted) throws IOException;
}
