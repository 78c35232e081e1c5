package dev.deputy.broker.admin;

import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /admin/t/{t}/users?email=&sub=}, {@code GET …/users/{id}}, {@code GET …/keys}, {@code POST …/keys/rotate}. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UsersAndKeysAdminTest {
    ManageBroker broker;
    static final String SUB = "00u1 Ünïcode.sub/with+odd=chars&x";

    @BeforeAll
    void start() {
        broker = ManageBroker.start(false);
        long now = System.currentTimeMillis();
        UserStore users = broker.bean(UserStore.class);
        users.insert(new User("demo", "usr_a", "okta", "https://idp.example.com/oauth2/default", SUB, "Jane.Doe@Example.COM",
                "Jane", List.of(), List.of(), User.Status.ACTIVE, now, now));
        users.insert(new User("demo", "usr_b", "okta", "https://other.example.com", SUB, "bob@example.com",
                "Bob", List.of(), List.of(), User.Status.ACTIVE, now, now));
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    @SuppressWarnings("unchecked")
    List<Map<String, Object>> users(String query) {
        HttpResponse<String> r = broker.get("/admin/t/demo/users" + query);
        assertEquals(200, r.statusCode(), r.body());
        return (List<Map<String, Object>>) ManageBroker.json(r.body()).get("users");
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Test
    void lookUpByEmailAndUpstreamSub() throws Exception {
        List<Map<String, Object>> byMail = users("?email=" + enc("  jane.doe@example.com "));
        assertEquals(1, byMail.size());
        assertEquals("usr_a", byMail.get(0).get("id"));
        assertEquals(SUB, byMail.get(0).get("upstream_sub"));
        assertEquals(2, users("?sub=" + enc(SUB)).size(), "the same sub at two issuers");
        assertEquals(List.of("usr_b"), users("?sub=" + enc(SUB) + "&iss=" + enc("https://other.example.com")).stream().map(u -> u.get("id")).toList());
        assertTrue(users("?sub=" + enc(SUB.toUpperCase())).isEmpty(), "sub compared byte for byte");
        assertEquals(200, broker.get("/admin/t/demo/users/usr_a").statusCode());
        HttpResponse<String> missing = broker.get("/admin/t/demo/users/usr_nobody");
        assertEquals(404, missing.statusCode());
        assertEquals("not_found", ManageBroker.json(missing.body()).get("error"));
        assertEquals(404, broker.get("/admin/t/no-such-tenant/users").statusCode());
        HttpResponse<String> anonymous = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(broker.url()
                + "/admin/t/demo/users?email=x")).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, anonymous.statusCode());
    }

    @Test
    @SuppressWarnings("unchecked")
    void listAndRotateSigningKeys() {
        HttpResponse<String> r = broker.get("/admin/t/demo/keys");
        assertEquals(200, r.statusCode(), r.body());
        assertFalse(r.body().contains("private") || r.body().contains("sealed") || r.body().contains("\"d\""), r.body());
        List<Map<String, Object>> keys = (List<Map<String, Object>>) ManageBroker.json(r.body()).get("keys");
        String active = keys.stream().filter(k -> "active".equals(k.get("state"))).map(k -> (String) k.get("kid")).findFirst().orElseThrow();
        HttpResponse<String> rotated = broker.post("/admin/t/demo/keys/rotate", "{}");
        assertEquals(200, rotated.statusCode(), rotated.body());
        String now = (String) ManageBroker.json(rotated.body()).get("active_kid");
        assertNotEquals(active, now);
        String jwks = broker.get("/t/demo/jwks.json").body();
        assertTrue(jwks.contains(active) && jwks.contains(now), "both published: " + jwks);
        assertTrue(broker.audit("demo").stream().anyMatch(e -> e.type().equals("key.rotated") && String.valueOf(e.details()).contains(now)));
    }
}
