package dev.deputy.broker.admin.signin;

import dev.deputy.broker.admin.AdminGrant;
import dev.deputy.broker.admin.AdminRole;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DEPUTY_CONSOLE_ROLE_MAP and the console settings: what operators write, and what is refused at start. */
class RoleMapTest {
    @Test
    void groupsMapToRolesPerTenantExactly() {
        RoleMap map = RoleMap.parse(" Deputy Admins=super_admin; payments-ops = tenant_admin:payments-eu, payments-us ;"
                + "Sicherheit & Prüfung=auditor:*;engineers=agent-owner;payments-ops=auditor:acme");
        assertEquals(List.of(new AdminGrant(AdminRole.SUPER_ADMIN, List.of("*"))), map.grants(List.of("Deputy Admins")));
        assertEquals(List.of(new AdminGrant(AdminRole.TENANT_ADMIN, List.of("payments-eu", "payments-us")),
                new AdminGrant(AdminRole.AUDITOR, List.of("acme"))), map.grants(List.of("payments-ops")));
        assertEquals(List.of(new AdminGrant(AdminRole.AUDITOR, List.of("*"))), map.grants(List.of("Sicherheit & Prüfung")));
        assertEquals(List.of(new AdminGrant(AdminRole.AGENT_OWNER, List.of("*"))), map.grants(List.of("engineers")));
        assertTrue(map.grants(List.of("deputy admins", "Deputy Admins ", "sicherheit & prüfung")).isEmpty(),
                "group names compare exactly");
        assertTrue(RoleMap.parse("").grants(List.of("Deputy Admins")).isEmpty());
    }

    @Test
    void aBadMapIsRefusedAtStart() {
        assertEquals("DEPUTY_CONSOLE_ROLE_MAP: unknown role 'root' (super_admin, tenant_admin, auditor, agent_owner)",
                assertThrows(IllegalArgumentException.class, () -> RoleMap.parse("admins=root")).getMessage());
        assertThrows(IllegalArgumentException.class, () -> RoleMap.parse("just-a-group"));
        assertThrows(IllegalArgumentException.class, () -> ConsoleSettings.properties(Map.of(
                "DEPUTY_CONSOLE_ISSUER", "https://idp.example", "DEPUTY_CONSOLE_ROLE_MAP", "x=admin")::get));
        assertEquals("DEPUTY_CONSOLE_ISSUER is set: DEPUTY_CONSOLE_CLIENT_ID is required too", assertThrows(IllegalArgumentException.class,
                () -> ConsoleSettings.properties(Map.of("DEPUTY_CONSOLE_ISSUER", "https://idp.example")::get)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConsoleSettings.properties(Map.of("DEPUTY_CONSOLE_ISSUER", "https://idp.example",
                "DEPUTY_CONSOLE_CLIENT_ID", "c", "DEPUTY_CONSOLE_SCOPES", "profile email")::get), "openid is required");
        assertThrows(IllegalArgumentException.class, () -> ConsoleSettings.properties(Map.of("DEPUTY_CONSOLE_ISSUER", "https://idp.example",
                "DEPUTY_CONSOLE_CLIENT_ID", "c", "DEPUTY_CONSOLE_STEP_UP_MAX_AGE", "-5")::get));
    }

    @Test
    void offUnlessAnIssuerIsSet() {
        Map<String, Object> off = ConsoleSettings.properties(Map.<String, String>of()::get);
        assertEquals(false, off.get("deputy.console.enabled"));
        assertEquals(false, off.get("micronaut.security.oauth2.enabled"));
        Map<String, Object> on = ConsoleSettings.properties(Map.of("DEPUTY_CONSOLE_ISSUER", "https://idp.example/realms/admins",
                "DEPUTY_CONSOLE_CLIENT_ID", "deputy-console", "DEPUTY_PUBLIC_URL", "https://deputy.example.com/",
                "DEPUTY_CONSOLE_STEP_UP_ACR", "gold")::get);
        assertEquals("https://deputy.example.com/console/oauth/callback{/provider}", on.get("micronaut.security.oauth2.callback-uri"));
        assertEquals("login", on.get("micronaut.security.oauth2.clients.console-step-up.openid.authorization.prompt"));
        assertEquals(600L, on.get("micronaut.security.oauth2.clients.console-step-up.openid.authorization.max-age"));
        assertEquals(List.of("gold"), on.get("micronaut.security.oauth2.clients.console-step-up.openid.authorization.acr-values"));
        assertEquals(false, on.get("micronaut.security.oauth2.userinfo.validator"), "admin tokens never go to the IdP");
    }
}
