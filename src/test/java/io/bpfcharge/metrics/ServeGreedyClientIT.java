package io.bpfcharge.metrics;

import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One client holding every socket it can must not starve the others: a greedy client on 127.0.0.3 opens three
 * times the daemon's --max-connections and keeps them, while health probes come from 127.0.0.2. Without a cap per
 * source address the greedy client took every slot and no probe was answered.
 */
@KernelTest
@HostOnly // HTTP connection handling: the same on every kernel and cgroup version
class ServeGreedyClientIT {
    private static final int MAX = 60, PER_SOURCE = 20, GREEDY = 3 * MAX, PROBES = 20;

    @Test
    void aClientHoldingEverySocketItCanLeavesRoomForProbesFromAnother() throws Exception {
        try (Daemon d = new Daemon(Map.of(), "--max-connections", "" + MAX, "--max-connections-per-source", "" + PER_SOURCE)) {
            int port = d.base.getPort();
            List<Socket> greedy = new ArrayList<>();
            try {
                for (int i = 0; i < GREEDY; i++) greedy.add(connect("127.0.0.3", port));
                int answered = 0;
                for (int i = 0; i < PROBES; i++) if (healthy("127.0.0.2", port)) answered++;
                assertEquals(PROBES, answered, "health probes from another address answered while one client holds "
                        + GREEDY + " sockets");
            } finally {
                for (Socket s : greedy) s.close();
            }
            double refused = Scrape.parse(get("127.0.0.2", port, "/metrics"))
                    .value("bpfcharge_http_connections_dropped_total", "reason", "per_source");
            assertTrue(refused >= GREEDY - PER_SOURCE, "per_source drops counted: " + refused);
        }
    }

    private static Socket connect(String from, int port) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(from, 0));
        s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
        s.setSoTimeout(5000);
        return s;
    }

    /** True when /-/healthy answered 200 within 5 s. */
    private static boolean healthy(String from, int port) {
        try {
            return get(from, port, "/-/healthy").startsWith("Healthy");
        } catch (IOException e) {
            return false;
        }
    }

    /** The body of a 200 answer to GET {@code path} from address {@code from}; IOException for anything else. */
    private static String get(String from, int port, String path) throws IOException {
        try (Socket s = connect(from, port)) {
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!answer.startsWith("HTTP/1.1 200 ")) throw new IOException("not 200: " + answer.lines().findFirst().orElse("(closed)"));
            return answer.substring(answer.indexOf("\r\n\r\n") + 4);
        }
    }
}
