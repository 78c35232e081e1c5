package dev.deputy.broker.registration;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SSRF defences of the CIMD fetcher with loopback refused (the production setting). No network is touched. */
class SafeFetcherTest {
    final SafeFetcher strict = new SafeFetcher(false, null, Duration.ofSeconds(2));

    String reason(String url) {
        return assertThrows(SafeFetcher.FetchException.class, () -> strict.get(URI.create(url))).reason();
    }

    @Test
    void privateLoopbackLinkLocalAndMulticastAreRefusedBeforeConnecting() {
        assertEquals("private_address", reason("https://127.0.0.1/client.json"));
        assertEquals("private_address", reason("https://localhost/client.json"));
        assertEquals("private_address", reason("https://[::1]/client.json"));
        assertEquals("private_address", reason("https://10.1.2.3/client.json"));
        assertEquals("private_address", reason("https://172.16.0.1/client.json"));
        assertEquals("private_address", reason("https://192.168.0.1/client.json"));
        assertEquals("private_address", reason("https://169.254.169.254/latest/meta-data"));
        assertEquals("private_address", reason("https://[fe80::1]/client.json"));
        assertEquals("private_address", reason("https://[fd00::1]/client.json"));
        assertEquals("private_address", reason("https://224.0.0.1/client.json"));
        assertEquals("private_address", reason("https://0.0.0.0/client.json"));
        assertEquals("private_address", reason("https://100.64.0.1/client.json"));
        assertEquals("private_address", reason("https://[::ffff:10.0.0.1]/client.json"));
        assertEquals("private_address", reason("https://[::ffff:127.0.0.1]/client.json"));
        assertEquals("private_address", reason("https://[::127.0.0.1]/client.json"));      // IPv4-compatible
        assertEquals("private_address", reason("https://[64:ff9b::a00:1]/client.json"));   // NAT64 of 10.0.0.1
        assertEquals("private_address", reason("https://[2002:a9fe:a9fe::1]/client.json")); // 6to4 of 169.254.169.254
    }

    @Test
    void onlyHttpsAndNoUserInfo() {
        // loopback refused first (the host is checked before the scheme); a public host over http is not fetched
        assertEquals("not_https", reason("http://93.184.215.14/client.json"));
        assertEquals("bad_url", reason("https://user@93.184.215.14/client.json"));
    }

    @Test
    void addressClassification() throws Exception {
        assertTrue(SafeFetcher.isPublic(InetAddress.getByName("93.184.215.14")));
        assertTrue(SafeFetcher.isPublic(InetAddress.getByName("2606:4700::1111")));
        assertFalse(SafeFetcher.isPublic(InetAddress.getByName("198.18.0.1")));
        assertFalse(SafeFetcher.isPublic(InetAddress.getByName("::")));
    }

    @Test
    void cimdUrlShape() {
        ClientIdMetadataDocuments strictDocs = new ClientIdMetadataDocuments(strict, false, java.time.Clock.systemUTC(), 4, java.time.Duration.ofSeconds(30));
        for (String bad : new String[]{"http://app.example/client.json", "https://app.example", "https://app.example/",
                "https://app.example/a/../client.json", "https://u@app.example/c.json", "https://app.example/c.json#f"}) {
            assertThrows(ClientIdMetadataDocuments.Rejected.class, () -> strictDocs.checkUrl(bad), bad);
        }
        ClientIdMetadataDocuments.Rejected r = assertThrows(ClientIdMetadataDocuments.Rejected.class,
                () -> strictDocs.resolve("https://127.0.0.1/client.json"));
        assertEquals("private_address", r.reason());
    }

    @Test
    void documentChecks() throws Exception {
        String url = "https://app.example/client.json";
        assertEquals("native", ClientIdMetadataDocuments.parse(url,
                "{\"client_id\":\"" + url + "\",\"redirect_uris\":[\"http://127.0.0.1/cb\"]}").applicationType());
        assertEquals("client_id_mismatch", assertThrows(ClientIdMetadataDocuments.Rejected.class, () ->
                ClientIdMetadataDocuments.parse(url, "{\"client_id\":\"" + url + "/\",\"redirect_uris\":[\"http://127.0.0.1/cb\"]}")).reason());
        assertEquals("auth_method_forbidden", assertThrows(ClientIdMetadataDocuments.Rejected.class, () ->
                ClientIdMetadataDocuments.parse(url, "{\"client_id\":\"" + url + "\",\"redirect_uris\":[\"http://127.0.0.1/cb\"],"
                        + "\"token_endpoint_auth_method\":\"client_secret_post\"}")).reason());
        assertEquals("redirect_uris_missing", assertThrows(ClientIdMetadataDocuments.Rejected.class, () ->
                ClientIdMetadataDocuments.parse(url, "{\"client_id\":\"" + url + "\"}")).reason());
        assertEquals(60, ClientIdMetadataDocuments.maxAge("public, max-age=60"));
        assertEquals(0, ClientIdMetadataDocuments.maxAge("no-store, max-age=60"));
        assertEquals(0, ClientIdMetadataDocuments.maxAge(null));
    }
}
