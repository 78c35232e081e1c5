package dev.deputy.broker.registration;

import dev.deputy.broker.net.PublicAddresses;

import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An HTTP GET hardened against SSRF, for documents named by untrusted parties (Client ID Metadata Documents):
 * <ul>
 *   <li>{@code https} only ({@code http} only to loopback when loopback is allowed, for tests and demos);</li>
 *   <li>the host is resolved once and every address must be public ({@link PublicAddresses}: loopback, private
 *       (RFC 1918, ULA), link-local, multicast, unspecified, CGNAT, documentation and the IPv4-mapped, NAT64 and
 *       6to4 forms of these are refused; loopback only when allowed);</li>
 *   <li>the socket connects to the address that was checked (no second resolution to rebind), TLS verifies the
 *       certificate against the host name (SNI + endpoint identification);</li>
 *   <li>at most {@link #MAX_REDIRECTS} redirects, each target checked the same way; a connect and read timeout;
 *       the body is capped at {@link #MAX_BODY} bytes.</li>
 * </ul>
 * A tiny HTTP/1.1 client ({@code Connection: close}, Content-Length, chunked) so the checked address is the one used.
 */
public class SafeFetcher {
    public static final int MAX_BODY = 5 * 1024;
    static final int MAX_REDIRECTS = 3;
    private static final int MAX_HEADER = 16 * 1024;

    private final boolean allowLoopback;
    private final SSLContext ssl;
    private final Duration timeout;

    public SafeFetcher(boolean allowLoopback, SSLContext ssl, Duration timeout) {
        this.allowLoopback = allowLoopback;
        this.timeout = timeout;
        try {
            this.ssl = ssl != null ? ssl : SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Why a fetch was refused: a short machine reason (audited) and a message. */
    public static final class FetchException extends Exception {
        private final String reason;

        public FetchException(String reason, String message) {
            super(message, null, false, false);
            this.reason = reason;
        }

        public String reason() {
            return reason;
        }
    }

    /** A final (non-redirect) answer. Header names are lower case. */
    public record Fetched(int status, Map<String, String> headers, byte[] body) {
    }

    public Fetched get(URI url) throws FetchException {
        URI current = url;
        for (int hop = 0; ; hop++) {
            Fetched f = once(current);
            if (f.status() / 100 == 3 && f.headers().containsKey("location")) {
                if (hop >= MAX_REDIRECTS) {
                    throw new FetchException("too_many_redirects", "more than " + MAX_REDIRECTS + " redirects");
                }
                try {
                    current = current.resolve(f.headers().get("location").trim());
                } catch (IllegalArgumentException e) {
                    throw new FetchException("bad_redirect", "unusable Location header");
                }
                continue;
            }
            return f;
        }
    }

    private Fetched once(URI url) throws FetchException {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        String host = url.getHost();
        if (host == null || url.getRawUserInfo() != null) {
            throw new FetchException("bad_url", "the URL needs a host and no user info");
        }
        String bareHost = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(bareHost);
        } catch (UnknownHostException e) {
            throw new FetchException("unresolvable", "the host does not resolve");
        }
        boolean allLoopback = true;
        for (InetAddress a : addresses) {
            if (a.isLoopbackAddress() || isMappedLoopback(a)) {
                if (!allowLoopback) {
                    throw new FetchException("private_address", "the host resolves to a loopback address");
                }
            } else {
                allLoopback = false;
                if (!isPublic(a)) {
                    throw new FetchException("private_address", "the host resolves to a non-public address");
                }
            }
        }
        boolean https = "https".equals(scheme);
        if (!https && !("http".equals(scheme) && allowLoopback && allLoopback)) {
            throw new FetchException("not_https", "only https URLs are fetched");
        }
        int port = url.getPort() > 0 ? url.getPort() : https ? 443 : 80;
        InetAddress target = addresses[0];
        int ms = (int) timeout.toMillis();
        long deadline = System.nanoTime() + timeout.toNanos();
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(target, port), ms);
            socket.setSoTimeout(remaining(deadline)); // the handshake's reads too
            if (https) {
                SSLSocket tls = (SSLSocket) ssl.getSocketFactory().createSocket(socket, bareHost, port, true);
                SSLParameters p = tls.getSSLParameters();
                p.setEndpointIdentificationAlgorithm("HTTPS");
                if (!bareHost.matches("[0-9.]+") && !bareHost.contains(":")) {
                    p.setServerNames(List.of(new SNIHostName(bareHost)));
                }
                tls.setSSLParameters(p);
                tls.startHandshake();
                socket = tls;
            }
            String path = url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath();
            if (url.getRawQuery() != null) {
                path += "?" + url.getRawQuery();
            }
            boolean defaultPort = url.getPort() < 0;
            String request = "GET " + path + " HTTP/1.1\r\nHost: " + host + (defaultPort ? "" : ":" + port) + "\r\n"
                    + "Accept: application/json\r\nUser-Agent: Deputy-CIMD/1\r\nAccept-Encoding: identity\r\n"
                    + "Connection: close\r\n" + traceHeaders() + "\r\n";
            OutputStream out = socket.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // every read is bounded by what is left of the one deadline (a peer trickling a byte just inside a
            // per-read timeout would otherwise hold the caller for as long as it likes)
            return read(new DeadlineInputStream(socket, deadline), deadline);
        } catch (FetchException e) {
            throw e;
        } catch (java.net.SocketTimeoutException e) {
            throw new FetchException("timeout", "timed out");
        } catch (javax.net.ssl.SSLException e) {
            throw new FetchException("tls", "TLS failed: " + e.getMessage());
        } catch (IOException e) {
            throw new FetchException("io", "cannot fetch: " + e.getMessage());
        } finally {
            try {
                socket.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** The W3C trace context of the current span as header lines ({@code traceparent}, {@code tracestate}), or "". */
    private static String traceHeaders() {
        StringBuilder sb = new StringBuilder(0);
        dev.deputy.connectors.UpstreamTracing.inject((name, value) -> {
            if (value.indexOf('\r') < 0 && value.indexOf('\n') < 0) { // never split a header line
                sb.append(name).append(": ").append(value).append("\r\n");
            }
        });
        return sb.toString();
    }

    private static Fetched read(InputStream in, long deadline) throws IOException, FetchException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int state = 0;
        while (state < 4) {
            int b = in.read();
            if (b < 0) {
                throw new FetchException("io", "connection closed in the headers");
            }
            head.write(b);
            if (head.size() > MAX_HEADER) {
                throw new FetchException("too_large", "response headers too large");
            }
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3)) ? state + 1
                    : b == '\r' ? 1 : 0;
            checkDeadline(deadline);
        }
        String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
        String[] statusLine = lines[0].split(" ", 3);
        if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/1.")) {
            throw new FetchException("io", "not an HTTP/1.x response");
        }
        int status;
        try {
            status = Integer.parseInt(statusLine[1]);
        } catch (NumberFormatException e) {
            throw new FetchException("io", "bad status line");
        }
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                headers.merge(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim(),
                        (x, y) -> x + ", " + y);
            }
        }
        if (status / 100 == 3) {
            return new Fetched(status, headers, new byte[0]);
        }
        byte[] body;
        if (headers.getOrDefault("transfer-encoding", "").toLowerCase(Locale.ROOT).contains("chunked")) {
            body = chunked(in, deadline);
        } else if (headers.containsKey("content-length")) {
            long len;
            try {
                len = Long.parseLong(headers.get("content-length"));
            } catch (NumberFormatException e) {
                throw new FetchException("io", "bad Content-Length");
            }
            if (len > MAX_BODY) {
                throw new FetchException("too_large", "the document is larger than " + MAX_BODY + " bytes");
            }
            body = in.readNBytes((int) len);
        } else {
            body = capped(in, deadline);
        }
        return new Fetched(status, headers, body);
    }

    private static byte[] capped(InputStream in, long deadline) throws IOException, FetchException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[1024];
        int n;
        while ((n = in.read(buf)) > 0) {
            out.write(buf, 0, n);
            if (out.size() > MAX_BODY) {
                throw new FetchException("too_large", "the document is larger than " + MAX_BODY + " bytes");
            }
            checkDeadline(deadline);
        }
        return out.toByteArray();
    }

    private static byte[] chunked(InputStream in, long deadline) throws IOException, FetchException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = line(in);
            int semi = sizeLine.indexOf(';');
            int size;
            try {
                size = Integer.parseInt((semi >= 0 ? sizeLine.substring(0, semi) : sizeLine).trim(), 16);
            } catch (NumberFormatException e) {
                throw new FetchException("io", "bad chunk size");
            }
            if (size == 0) {
                return out.toByteArray();
            }
            if (size < 0 || out.size() + size > MAX_BODY) {
                throw new FetchException("too_large", "the document is larger than " + MAX_BODY + " bytes");
            }
            out.write(in.readNBytes(size));
            line(in);
            checkDeadline(deadline);
        }
    }

    private static String line(InputStream in) throws IOException, FetchException {
        StringBuilder sb = new StringBuilder();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                sb.append((char) b);
            }
            if (sb.length() > 100) {
                throw new FetchException("io", "bad chunk line");
            }
        }
        return sb.toString();
    }

    /** Milliseconds left until {@code deadline} (at least 1: 0 would mean "no timeout" to a socket). */
    static int remaining(long deadline) throws java.net.SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new java.net.SocketTimeoutException("deadline passed");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    /** A socket's input whose every read may take only what is left of the deadline. */
    static final class DeadlineInputStream extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private final long deadline;

        DeadlineInputStream(Socket socket, long deadline) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
            this.deadline = deadline;
        }

        @Override
        public int read() throws IOException {
            socket.setSoTimeout(remaining(deadline));
            return in.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            socket.setSoTimeout(remaining(deadline));
            return in.read(b, off, len);
        }
    }

    private static void checkDeadline(long deadline) throws FetchException {
        if (System.nanoTime() > deadline) {
            throw new FetchException("timeout", "timed out");
        }
    }

    private static boolean isMappedLoopback(InetAddress a) {
        byte[] b = a.getAddress();
        return a instanceof Inet6Address && b.length == 16 && isV4Mapped(b) && b[12] == 127;
    }

    private static boolean isV4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    /** Public unicast, as {@link PublicAddresses} says (the same rule as jwks_uri fetches). */
    static boolean isPublic(InetAddress a) {
        return PublicAddresses.isPublic(a);
    }

    static List<String> describe(InetAddress[] as) {
        List<String> out = new ArrayList<>();
        for (InetAddress a : as) {
            out.add(a.getHostAddress());
        }
        return out;
    }
}
