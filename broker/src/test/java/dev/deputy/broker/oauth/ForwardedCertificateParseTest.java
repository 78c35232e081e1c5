package dev.deputy.broker.oauth;

import dev.deputy.broker.pki.Pem;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The certificate a trusted proxy forwards in a header is parsed once per distinct header value: every form a proxy
 * sends (URL-encoded PEM as nginx's {@code $ssl_client_escaped_cert}, plain PEM, bare Base64 DER) gives the same
 * certificate, and what cannot be read is refused every time and never remembered.
 */
class ForwardedCertificateParseTest {
    static final X509Certificate CERT = TestKeys.selfSigned(TestKeys.ecKeyPair("secp256r1"),
            "payments.settlement.reconciler-Zoë-" + "x".repeat(20));

    @Test
    void everyFormGivesTheCertificateAndARepeatedValueIsNotParsedAgain() throws Exception {
        String pem = Pem.write(CERT);
        String escaped = URLEncoder.encode(pem, StandardCharsets.UTF_8);
        String der = Base64.getEncoder().encodeToString(CERT.getEncoded());
        for (String value : new String[]{escaped, pem.strip(), der}) {
            Optional<X509Certificate> first = ClientCertificates.parse(value);
            assertTrue(first.isPresent(), value);
            assertArrayEquals(CERT.getEncoded(), first.get().getEncoded());
            assertEquals(ClientCertificates.thumbprint(CERT), ClientCertificates.thumbprint(first.get()));
            // the next request with the same header value gets the certificate parsed the first time
            assertSame(first.get(), ClientCertificates.parse(value).orElseThrow());
            assertSame(first.get(), ClientCertificates.parse(new String(value.toCharArray())).orElseThrow(),
                    "found by the value, not by the string instance");
        }
    }

    @Test
    void unreadableValuesAreRefusedEachTimeAndNotRemembered() {
        String pem = Pem.write(CERT);
        String[] bad = {"not a certificate", pem.replace("-----END CERTIFICATE-----", "").substring(0, pem.length() / 2),
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "%ZZ%"};
        for (String value : bad) {
            assertTrue(ClientCertificates.parse(value).isEmpty(), value);
            assertTrue(ClientCertificates.parse(value).isEmpty(), value);
        }
        int before = ClientCertificates.parsedCount();
        for (String value : bad) {
            ClientCertificates.parse(value);
        }
        assertEquals(before, ClientCertificates.parsedCount(), "failures are not remembered");
    }

    @Test
    void theMemoryIsBounded() throws Exception {
        String der = Base64.getEncoder().encodeToString(TestKeys.selfSigned(TestKeys.ecKeyPair("secp256r1"), "bound")
                .getEncoded().clone());
        // the same certificate under many header values (whitespace a proxy might fold in): never more than the bound
        StringBuilder spaced = new StringBuilder(der);
        for (int i = 0; i < ClientCertificates.MAX_PARSED + 10; i++) {
            spaced.insert(1 + i % (der.length() - 2), ' ');
            assertTrue(ClientCertificates.parse(spaced.toString()).isPresent());
            assertTrue(ClientCertificates.parsedCount() <= ClientCertificates.MAX_PARSED);
        }
    }
}
