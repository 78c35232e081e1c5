package dev.deputy.broker.net;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Which addresses a fetch of a URL named by an untrusted party (an agent's {@code jwks_uri}, a Client ID Metadata
 * Document) may connect to: public unicast only.
 * <p>
 * Refused IPv4: 0/8, 10/8, 100.64/10 (shared, RFC 6598), 127/8, 169.254/16, 172.16/12, 192.0.0/24, 192.0.2/24,
 * 192.88.99/24, 192.168/16, 198.18/15, 198.51.100/24, 203.0.113/24, 224/4 and 240/4 (255.255.255.255 included).
 * IPv6 must be global unicast (2000::/3) and not 2001::/32 (Teredo), 2001:db8::/32 or 3fff::/20 (documentation);
 * the forms that carry an IPv4 address — IPv4-mapped {@code ::ffff:0:0/96}, NAT64 {@code 64:ff9b::/96}, 6to4
 * {@code 2002::/16} — are judged by that IPv4 address; everything else (loopback, unspecified, IPv4-compatible
 * {@code ::/96}, link-local, site-local, unique-local fc00::/7, multicast, discard-only 100::/64, local-use NAT64
 * 64:ff9b:1::/48) is refused.
 */
public final class PublicAddresses {
    private PublicAddresses() {
    }

    public static boolean isPublic(InetAddress a) {
        if (a.isAnyLocalAddress() || a.isLoopbackAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress()
                || a.isMulticastAddress()) {
            return false;
        }
        byte[] b = a.getAddress();
        return b.length == 4 ? isPublicV4(b) : isPublicV6(b);
    }

    private static boolean isPublicV4(byte[] b) {
        int o0 = b[0] & 0xff;
        int o1 = b[1] & 0xff;
        int o2 = b[2] & 0xff;
        return o0 != 0 && o0 != 10 && o0 != 127 && o0 < 224               // this network, private, loopback, 224/4, 240/4
                && !(o0 == 100 && (o1 & 0xc0) == 64)                        // 100.64/10 shared address space
                && !(o0 == 169 && o1 == 254)                                // link-local
                && !(o0 == 172 && (o1 & 0xf0) == 16)                        // 172.16/12
                && !(o0 == 192 && o1 == 168)                                // 192.168/16
                && !(o0 == 192 && o1 == 0 && (o2 == 0 || o2 == 2))          // IETF protocol assignments, TEST-NET-1
                && !(o0 == 192 && o1 == 88 && o2 == 99)                     // 6to4 relay anycast (deprecated)
                && !(o0 == 198 && (o1 == 18 || o1 == 19))                   // benchmarking
                && !(o0 == 198 && o1 == 51 && o2 == 100)                    // TEST-NET-2
                && !(o0 == 203 && o1 == 0 && o2 == 113);                    // TEST-NET-3
    }

    private static boolean isPublicV6(byte[] b) {
        if (allZero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff) {
            return isPublic(v4(b, 12));                                       // ::ffff:a.b.c.d (IPv4-mapped)
        }
        if ((b[0] & 0xff) == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b
                && allZero(b, 4, 12)) {
            return isPublic(v4(b, 12));                                       // 64:ff9b::a.b.c.d (NAT64, RFC 6052)
        }
        if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
            return isPublic(v4(b, 2));                                        // 2002:aabb:ccdd::/48 (6to4)
        }
        if ((b[0] & 0xe0) != 0x20) {
            return false;                                                     // only 2000::/3 is global unicast
        }
        boolean p2001 = (b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01;
        return !(p2001 && b[2] == 0 && b[3] == 0)                            // 2001::/32 Teredo
                && !(p2001 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8)  // 2001:db8::/32 documentation
                && !((b[0] & 0xff) == 0x3f && (b[1] & 0xff) == 0xff && (b[2] & 0xf0) == 0); // 3fff::/20 documentation
    }

    private static boolean allZero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress v4(byte[] b, int at) {
        try {
            return InetAddress.getByAddress(Arrays.copyOfRange(b, at, at + 4));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // four bytes are always an IPv4 address
        }
    }
}
