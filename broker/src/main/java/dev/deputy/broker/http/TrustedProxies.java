package dev.deputy.broker.http;

import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import jakarta.inject.Singleton;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code DEPUTY_TRUSTED_PROXIES}: the load balancers and reverse proxies whose {@code Forwarded} (RFC 7239) or
 * {@code X-Forwarded-For} header names the client. None by default: the source address of a request (its audit
 * {@code source_ip}, the per-source rate limits, the DCR per-source cap) is the connection's peer, and the headers are
 * ignored, since anyone can send them.
 *
 * <p>With a list of CIDRs, a request whose peer is in the list takes its source from the header, read right to left
 * (the order proxies append in): every address that is itself a trusted proxy is skipped, the first one that is not is
 * the client. A client cannot spoof its way past this: whatever it puts on the left of the header is never reached
 * while an untrusted address stands to its right. An entry that is not an IP literal ({@code unknown}, an obfuscated
 * RFC 7239 §6.3 identifier, garbage) stops the walk and the nearest proxy's address is used. {@code Forwarded} wins
 * over {@code X-Forwarded-For} when both are present. No name is ever resolved.
 */
@Singleton
public class TrustedProxies {
    /** Longer chains than this are not walked (the header is bounded by the server's header size anyway). */
    static final int MAX_HOPS = 32;

    private final List<IpSubnetFilterRule> rules;
    private final List<String> cidrs;

    public TrustedProxies(@Nullable @Value("${deputy.http.trusted-proxies:}") String list) {
        List<IpSubnetFilterRule> r = new ArrayList<>();
        List<String> c = new ArrayList<>();
        if (list != null) {
            for (String part : list.split("[,\\s]+")) {
                if (part.isBlank()) {
                    continue;
                }
                r.add(rule(part.trim()));
                c.add(part.trim());
            }
        }
        this.rules = List.copyOf(r);
        this.cidrs = List.copyOf(c);
    }

    static IpSubnetFilterRule rule(String cidr) {
        String ip = cidr;
        int bits;
        int slash = cidr.indexOf('/');
        InetAddress a;
        try {
            if (slash >= 0) {
                ip = cidr.substring(0, slash);
                bits = Integer.parseInt(cidr.substring(slash + 1));
            } else {
                bits = -1;
            }
            a = literal(ip);
            if (a == null) {
                throw new IllegalArgumentException();
            }
            int max = a.getAddress().length * 8;
            if (bits == -1) {
                bits = max;
            }
            if (bits < 0 || bits > max) {
                throw new IllegalArgumentException();
            }
            return new IpSubnetFilterRule(a, bits, IpFilterRuleType.ACCEPT);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("DEPUTY_TRUSTED_PROXIES: '" + cidr
                    + "' is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.168.1.10, fd00::/8)");
        }
    }

    /** The configured list, for the start-up log and the docs' examples. */
    public List<String> cidrs() {
        return cidrs;
    }

    public boolean trusted(InetAddress a) {
        if (a == null || rules.isEmpty()) {
            return false;
        }
        InetSocketAddress s = new InetSocketAddress(a, 0);
        for (IpSubnetFilterRule r : rules) {
            if (r.matches(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The client's address: the peer's, unless the peer is a trusted proxy and its forwarding header names another.
     *
     * @param peer the connection's peer address
     */
    public InetAddress client(InetAddress peer, HttpHeaders headers) {
        if (!trusted(peer)) {
            return peer;
        }
        List<String> forwarded = headers.getAll("Forwarded");
        List<String> hops = !forwarded.isEmpty() ? forwardedFor(forwarded) : xForwardedFor(headers.getAll("X-Forwarded-For"));
        InetAddress current = peer;
        for (int i = hops.size() - 1, n = 0; i >= 0 && n < MAX_HOPS; i--, n++) {
            InetAddress hop = literal(hops.get(i));
            if (hop == null) {
                return current; // not an address: the nearest proxy is all we know
            }
            current = hop;
            if (!trusted(hop)) {
                return hop;
            }
        }
        return current;
    }

    /** {@code X-Forwarded-For: client, proxy1, proxy2} (several header lines in order). */
    static List<String> xForwardedFor(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            for (String part : v.split(",")) {
                out.add(part.trim());
            }
        }
        return out;
    }

    /** RFC 7239 §4: {@code Forwarded: for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711"}. */
    static List<String> forwardedFor(List<String> values) {
        List<String> out = new ArrayList<>();
        for (String v : values) {
            for (String element : v.split(",")) {
                String forValue = null;
                for (String pair : element.split(";")) {
                    int eq = pair.indexOf('=');
                    if (eq > 0 && pair.substring(0, eq).trim().toLowerCase(Locale.ROOT).equals("for")) {
                        forValue = pair.substring(eq + 1).trim();
                    }
                }
                // an element without for= says nothing of the client: it stops the walk like "unknown"
                out.add(forValue == null ? "unknown" : node(forValue));
            }
        }
        return out;
    }

    /** RFC 7239 §6: a node is an IPv4 address, a bracketed IPv6 address, either with a port, maybe quoted. */
    static String node(String v) {
        String s = v;
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            return close > 0 ? s.substring(1, close) : "unknown";
        }
        int colon = s.indexOf(':');
        return colon > 0 && s.indexOf(':', colon + 1) < 0 ? s.substring(0, colon) : s;
    }

    /** An IP literal (IPv4 or IPv6, an X-Forwarded-For IPv6 possibly in brackets), never a name lookup. */
    static InetAddress literal(String s) {
        if (s == null || s.isEmpty() || s.length() > 64) {
            return null;
        }
        String t = s.startsWith("[") && s.endsWith("]") ? s.substring(1, s.length() - 1) : s;
        return NetUtil.createInetAddressFromIpAddressString(t);
    }
}
