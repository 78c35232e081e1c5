package dev.deputy.broker.net;

import org.junit.jupiter.api.Test;

import java.net.Inet6Address;
import java.net.InetAddress;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Address classification only: literals, nothing resolved, nothing connected. */
class PublicAddressesTest {
    static InetAddress a(String literal) throws Exception {
        return InetAddress.getByName(literal);
    }

    /** The IPv4-mapped IPv6 form, kept as IPv6 (InetAddress.getByName would turn it into IPv4). */
    static InetAddress v6(String v4) throws Exception {
        byte[] b = new byte[16];
        b[10] = (byte) 0xff;
        b[11] = (byte) 0xff;
        System.arraycopy(InetAddress.getByName(v4).getAddress(), 0, b, 12, 4);
        return Inet6Address.getByAddress(null, b, null);
    }

    @Test
    void publicUnicast() throws Exception {
        for (String s : new String[]{"93.184.215.14", "8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1",
                "192.0.1.1", "223.255.255.254", "2606:4700::1111", "2a00:1450::1", "64:ff9b::808:808", "2002:808:808::1"}) {
            assertTrue(PublicAddresses.isPublic(a(s)), s);
        }
    }

    @Test
    void everythingElseIsRefused() throws Exception {
        for (String s : new String[]{"0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "100.127.255.255", "127.0.0.1",
                "127.255.255.254", "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.8", "192.0.2.1",
                "192.88.99.1", "192.168.1.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9",
                "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
                "::", "::1", "::127.0.0.1", "::8.8.8.8", "fe80::1", "fec0::1", "fc00::1", "fd12:3456::1", "ff02::1",
                "100::1", "64:ff9b:1::1", "2001::1", "2001:db8::1", "3fff::1", "4000::1",
                "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:c0a8:101::1"}) {
            assertFalse(PublicAddresses.isPublic(a(s)), s);
        }
    }

    @Test
    void ipv4MappedFormsAreJudgedByTheirIpv4Address() throws Exception {
        assertFalse(PublicAddresses.isPublic(v6("127.0.0.1")));
        assertFalse(PublicAddresses.isPublic(v6("10.0.0.1")));
        assertFalse(PublicAddresses.isPublic(v6("169.254.169.254")));
        assertTrue(PublicAddresses.isPublic(v6("8.8.8.8")));
    }
}
