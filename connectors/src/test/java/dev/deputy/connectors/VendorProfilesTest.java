package dev.deputy.connectors;

import dev.deputy.connectors.ConnectorException.Code;
import dev.deputy.connectors.ConnectorTestReport.Status;
import dev.deputy.connectors.UpstreamConnector.TokenKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each vendor profile against mock-oauth2-server shaped like that vendor (issuer form and claims). */
class VendorProfilesTest {

    static final URI REDIRECT = URI.create("https://deputy.example/t/acme/callback");
    static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    static final String OTHER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad";

    MockIdp idp;

    @BeforeEach
    void start() {
        idp = new MockIdp();
    }

    @AfterEach
    void stop() {
        idp.close();
    }

    Map<String, Object> config(String type, String issuer, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>(Map.of("id", type + "-1", "type", type, "issuer", issuer,
                "client_id", "deputy", "client_secret", "s3cr3t-value"));
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    UpstreamIdentity login(UpstreamConnector c, String issuerId, String sub, Map<String, Object> claims) throws Exception {
        LoginRequest req = c.beginLogin(REDIRECT);
        idp.enqueue(issuerId, sub, claims);
        return c.completeLogin(idp.authorize(req.authorizationUri()), req.pending());
    }

    static void assertCode(Code code, Executable e) {
        ConnectorException ex = assertThrows(ConnectorException.class, e);
        assertEquals(code, ex.code(), ex.getMessage());
    }

    // ------------------------------------------------------------------ Okta

    @Test
    void oktaCustomAuthorizationServer() throws Exception {
        String issuerId = "oauth2/aus1a2b3c4D5e6F7g8h9";
        UpstreamConnector c = Connectors.fromMap(config("okta", idp.issuer(issuerId),
                "scopes", List.of("openid", "email", "profile", "groups"),
                "role_mapping", Map.of("Deputy Admins", "admin")));
        UpstreamIdentity id = login(c, issuerId, "00u1abcdEFGH2345ijk7", Map.of("email", "ada@corp.example", "name", "Ada",
                "groups", List.of("Everyone", "Deputy Admins")));
        assertEquals("00u1abcdEFGH2345ijk7", id.subject());
        assertEquals(idp.issuer(issuerId), id.issuer());
        assertEquals(List.of("Everyone", "Deputy Admins"), id.groups());
        assertEquals(Set.of("admin"), id.roles());
        // custom authorization servers mint JWT access tokens that can be validated locally
        String at = idp.server.issueToken(issuerId, "00u1abcdEFGH2345ijk7", "api://deputy", Map.of()).serialize();
        assertEquals("00u1abcdEFGH2345ijk7", c.validateUpstreamToken(at, TokenKind.ACCESS_TOKEN, Set.of("api://deputy")).subject());
    }

    @Test
    void oktaOrgAuthorizationServer() throws Exception {
        // The org server lives at the root (https://{org}.okta.com); mock-oauth2-server's root issuer is broken
        // (its issuerId logic needs a path segment), so a non-/oauth2/ path plays the org shape here.
        String issuer = idp.issuer("okta-org");
        UpstreamConnector c = Connectors.fromMap(config("okta", issuer));
        assertEquals("00u9", login(c, "okta-org", "00u9", Map.of("email", "bob@corp.example")).subject());
        String at = idp.server.issueToken("okta-org", "00u9", "api://deputy", Map.of()).serialize();
        assertCode(Code.UNSUPPORTED_TOKEN, () -> c.validateUpstreamToken(at, TokenKind.ACCESS_TOKEN, Set.of("api://deputy")));
        ConnectorTestReport r = c.test();
        assertTrue(r.ok(), r.toString());
        assertTrue(r.problems().stream().anyMatch(ch -> ch.name().equals("okta.groups") && ch.status() == Status.WARN), r.toString());
        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("okta", issuer,
                "okta", Map.of("authorization_server", "custom")))).getMessage().contains("'authorization_server'"));
    }

    // ------------------------------------------------------------------ Auth0

    @Test
    void auth0TrailingSlashIssuerNamespacedClaimsAndOrganization() throws Exception {
        String issuer = idp.issuer("auth0") + "/"; // https://tenant.auth0.com/ shape
        UpstreamConnector c = Connectors.fromMap(config("auth0", issuer,
                "auth0", Map.of("namespace", "https://example.com/", "organization", "org_W1nD0w5"),
                "role_mapping", Map.of("engineering", List.of("developer", "reader"))));
        LoginRequest req = c.beginLogin(REDIRECT);
        assertTrue(req.authorizationUri().getQuery().contains("organization=org_W1nD0w5"), req.authorizationUri().toString());
        idp.enqueue("auth0", "auth0|65f1c0ffee", Map.of("iss", issuer, "email", "ada@corp.example", "email_verified", true,
                "name", "Ada", "org_id", "org_W1nD0w5", "https://example.com/groups", List.of("engineering")));
        UpstreamIdentity id = c.completeLogin(idp.authorize(req.authorizationUri()), req.pending());
        assertEquals("auth0|65f1c0ffee", id.subject());
        assertEquals(issuer, id.issuer()); // trailing slash kept byte for byte
        assertEquals(List.of("engineering"), id.groups());
        assertEquals(Set.of("developer", "reader"), id.roles());
        assertEquals(Boolean.TRUE, id.emailVerified());

        assertCode(Code.ORGANIZATION_MISMATCH, () -> login(c, "auth0", "auth0|65f1c0ffee", Map.of("iss", issuer, "org_id", "org_other")));
        assertCode(Code.ORGANIZATION_MISMATCH, () -> login(c, "auth0", "auth0|65f1c0ffee", Map.of("iss", issuer)));
        // the slash-less form is what the mock would put in iss by default: not the Auth0 issuer
        assertCode(Code.ISSUER_MISMATCH, () -> login(c, "auth0", "auth0|65f1c0ffee", Map.of("org_id", "org_W1nD0w5")));
        assertTrue(c.test().ok(), c.test().toString());
    }

    @Test
    void auth0IssuerWithoutTrailingSlashIsAConfigError() {
        ConnectorException e = assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("auth0", idp.issuer("auth0"))));
        assertEquals(Code.INVALID_CONFIG, e.code());
        assertTrue(e.getMessage().contains("'issuer'"), e.getMessage());
    }

    // ------------------------------------------------------------------ Entra ID

    Map<String, Object> entraConfig() {
        return config("entra", idp.issuer(MockIdp.ENTRA_ID), "entra", Map.of("tenant", "organizations", "allowed_tenants", List.of(TENANT)),
                "role_mapping", Map.of("b0c1d2e3-0000-4000-8000-000000000001", "admin"));
    }

    String entraIssuer(String tid) {
        return idp.base() + "/" + tid + "/v2.0";
    }

    @Test
    void entraMultiTenantLogin() throws Exception {
        UpstreamConnector c = Connectors.fromMap(entraConfig());
        String sub = "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"; // pairwise per app, not the oid
        UpstreamIdentity id = login(c, MockIdp.ENTRA_ID, sub, Map.of("iss", entraIssuer(TENANT), "tid", TENANT,
                "oid", "00000000-0000-0000-66f3-3332eca7ea81", "email", "ada@corp.example", "name", "Ada",
                "groups", List.of("b0c1d2e3-0000-4000-8000-000000000001")));
        assertEquals(sub, id.subject());
        assertEquals(entraIssuer(TENANT), id.issuer());
        assertEquals(TENANT, id.tenantId());
        assertEquals("00000000-0000-0000-66f3-3332eca7ea81", id.objectId());
        assertEquals(Set.of("admin"), id.roles());
        assertFalse(id.groupsOverage());
        ConnectorTestReport r = c.test();
        assertTrue(r.ok(), r.toString());
    }

    @Test
    void entraTenantNotOnAllowList() {
        UpstreamConnector c = Connectors.fromMap(entraConfig());
        assertCode(Code.TENANT_NOT_ALLOWED, () -> login(c, MockIdp.ENTRA_ID, "s", Map.of("iss", entraIssuer(OTHER_TENANT), "tid", OTHER_TENANT)));
        // iss of one tenant, tid of another: the template substitution does not match
        assertCode(Code.ISSUER_MISMATCH, () -> login(c, MockIdp.ENTRA_ID, "s", Map.of("iss", entraIssuer(OTHER_TENANT), "tid", TENANT)));
        // the literal template is never a valid token issuer
        assertCode(Code.ISSUER_MISMATCH, () -> login(c, MockIdp.ENTRA_ID, "s", Map.of("iss", idp.base() + "/{tenantid}/v2.0", "tid", "{tenantid}")));
    }

    @Test
    void entraGroupOverageIsReportedNotFatal() throws Exception {
        UpstreamConnector c = Connectors.fromMap(entraConfig());
        UpstreamIdentity id = login(c, MockIdp.ENTRA_ID, "s1", Map.of("iss", entraIssuer(TENANT), "tid", TENANT,
                "_claim_names", Map.of("groups", "src1"),
                "_claim_sources", Map.of("src1", Map.of("endpoint", "https://graph.windows.net/" + TENANT + "/users/x/getMemberObjects"))));
        assertTrue(id.groupsOverage());
        assertEquals(List.of(), id.groups());
    }

    @Test
    void entraConfigRules() {
        Map<String, Object> noAllowList = config("entra", idp.issuer(MockIdp.ENTRA_ID), "entra", Map.of("tenant", "organizations"));
        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(noAllowList)).getMessage().contains("'allowed_tenants'"));
        Map<String, Object> single = new LinkedHashMap<>(Map.of("id", "entra-single", "type", "entra", "client_id", "deputy",
                "client_secret", "x", "entra", Map.of("tenant", TENANT)));
        ConnectorConfig cfg = ConnectorConfig.fromMap(single);
        assertEquals("https://login.microsoftonline.com/" + TENANT + "/v2.0", cfg.issuer());
        assertEquals(List.of(TENANT), ((ConnectorConfig.EntraOptions) cfg.vendor()).allowedTenants());
    }

    // ------------------------------------------------------------------ Keycloak

    @Test
    void keycloakRealmAndClientRoles() throws Exception {
        String issuerId = "realms/acme";
        UpstreamConnector c = Connectors.fromMap(config("keycloak", idp.issuer(issuerId),
                "role_mapping", Map.of("deputy-admin", "admin", "deputy:editor", "editor")));
        String sub = "f:3c9a0f4e-1c2b-4d5e-8f90-123456789abc:ada";
        UpstreamIdentity id = login(c, issuerId, sub, Map.of("email", "ada@corp.example", "preferred_username", "ada",
                "name", "Ada", "azp", "deputy",
                "realm_access", Map.of("roles", List.of("offline_access", "deputy-admin")),
                "resource_access", Map.of("deputy", Map.of("roles", List.of("editor")), "account", Map.of("roles", List.of("view-profile")))));
        assertEquals(sub, id.subject());
        assertEquals(idp.issuer(issuerId), id.issuer());
        assertEquals(List.of("offline_access", "deputy-admin", "deputy:editor"), id.groups());
        assertEquals(Set.of("admin", "editor"), id.roles());
        assertNull(id.tenantId());
        assertTrue(assertThrows(ConnectorException.class, () -> ConnectorConfig.fromMap(config("keycloak", idp.issuer("acme"))))
                .getMessage().contains("'issuer'"));
    }
}
