package dev.deputy.broker.admin;

import dev.deputy.broker.admin.ConsoleFixture.Browser;
import dev.deputy.broker.audit.AuditEntry;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admin console sign-in through a real OpenID provider on loopback (mock-oauth2-server: discovery, JWKS, code + PKCE,
 * signed ID tokens carrying groups/acr/amr/auth_time), and the admin API's roles per tenant, CSRF, step-up and the
 * break-glass credential — all over HTTP, as a browser and as automation would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class ConsoleAdminContract {
    static final String CLIENT_ID = ConsoleFixture.CLIENT_ID;
    static final String MFA_ACR = ConsoleFixture.MFA_ACR;
    static final String A = "/admin/t/acme";
    static final String B = "/admin/t/payments-eu";
    static final String OWNER = "zoë.müller@corp.example";

    ConsoleFixture fx;
    MockOAuth2Server idp;
    ManageBroker broker;

    abstract boolean mariadbAndRedis();

    @BeforeAll
    void start() {
        fx = ConsoleFixture.start(mariadbAndRedis(), root -> {
            ConsoleFixture.write(root, "config/tenants/acme/tenant.yml", "display_name: Acme\n");
            ConsoleFixture.write(root, "config/tenants/acme/roles/deploy-reader.yml", "scopes: [deploy.read]\n");
            ConsoleFixture.write(root, "config/tenants/acme/roles/prod-deployer.yml", "scopes: [deploy.write]\n");
            ConsoleFixture.write(root, "config/tenants/acme/roles/treasury.mover.yml", "scopes: [payments.move]\nprivileged: true\n");
            ConsoleFixture.write(root, "config/tenants/payments-eu/tenant.yml", "display_name: Payments EU\n");
        }, Map.of("DEPUTY_CONSOLE_ROLE_MAP", "Deputy Admins=super_admin; acme-ops=tenant_admin:acme;"
                        + " Sicherheit & Prüfung=auditor:*; engineers=agent_owner",
                "DEPUTY_CONSOLE_STEP_UP_MAX_AGE", "300",
                "DEPUTY_CONSOLE_PRIVILEGED_ROLES", "prod-deployer"));
        idp = fx.idp;
        broker = fx.broker;
    }

    @AfterAll
    void stop() {
        if (fx != null) {
            fx.close();
        }
    }

    // ------------------------------------------------------------------------------------------ sign-in

    @Test
    void aSuperAdminSignsInAndCallsTheAdminApiWithTheSessionCookie() {
        Browser b = fx.browser();
        HttpResponse<String> page = b.signIn("jonathan.christopher.williams", List.of("Deputy Admins"), "pwd", null);
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("jonathan.christopher.williams@corp.example"), page.body());
        assertTrue(page.body().contains("super_admin"), page.body());
        assertTrue(page.headers().firstValue("Content-Security-Policy").orElse("").contains("default-src 'none'"));
        // the session cookie: HttpOnly, SameSite=Lax, Path=/ (not Secure: plain http on loopback)
        String setCookie = b.sessionSetCookie;
        assertTrue(setCookie.startsWith("deputy_console=dpc_"), setCookie);
        assertTrue(setCookie.toLowerCase().contains("httponly"), setCookie);
        assertTrue(setCookie.toLowerCase().contains("samesite=lax"), setCookie);
        assertTrue(setCookie.contains("Path=/"), setCookie);

        Map<String, Object> me = ManageBroker.json(b.get(broker.url() + "/admin/whoami").body());
        assertEquals("console", me.get("kind"));
        assertEquals("jonathan.christopher.williams@corp.example", me.get("admin"));
        assertEquals(List.of(Map.of("role", "super_admin", "tenants", List.of("*"))), me.get("grants"));
        assertEquals(false, me.get("privileged_now"), "a password sign-in is not a multi-factor one");
        assertEquals(200, b.get(broker.url() + A + "/agents").statusCode());
        assertEquals(200, b.get(broker.url() + B + "/agents").statusCode());

        AuditEntry login = last("_broker", "admin.console.login");
        assertEquals("success", login.outcome());
        assertEquals("jonathan.christopher.williams", login.subject());
        Map<String, Object> d = ManageBroker.json(login.details());
        assertEquals(List.of("pwd"), d.get("amr"));
        assertEquals(List.of("super_admin:*"), d.get("roles"));
    }

    @Test
    void someoneInNoMappedGroupIsNotSignedIn() {
        Browser b = fx.browser();
        HttpResponse<String> page = b.signIn("mallory", List.of("contractors", "Deputy Admins "), "pwd", null);
        assertEquals(200, page.statusCode());
        assertTrue(page.uri().toString().endsWith("/console/signed-out?error=not_an_admin"), page.uri().toString());
        assertTrue(page.body().contains("no Deputy admin role"), page.body());
        assertNull(b.sessionSetCookie, "no session");
        assertEquals(401, b.get(broker.url() + "/admin/whoami").statusCode());
        AuditEntry e = last("_broker", "admin.console.login");
        assertEquals("failure", e.outcome());
        assertEquals("not_an_admin", ManageBroker.json(e.details()).get("error"));
    }

    // ------------------------------------------------------------------------------------------ 403 matrix

    @Test
    void aTenantAdminOfOneTenantIsRefusedInAnother() {
        Browser b = fx.browser();
        b.signIn("zoë-ops", List.of("acme-ops"), "pwd", null);
        String csrf = b.csrf();
        assertEquals(200, b.get(broker.url() + A + "/agents").statusCode());
        HttpResponse<String> other = b.get(broker.url() + B + "/agents");
        assertEquals(403, other.statusCode(), other.body());
        assertEquals("access_denied", ManageBroker.json(other.body()).get("error"));
        String id = "ops-bot-" + suffix();
        assertEquals(201, b.post(broker.url() + A + "/agents", agentJson(id, "alice@corp.example", "deploy-reader"), csrf).statusCode());
        int before = broker.audit("payments-eu").size();
        HttpResponse<String> elsewhere = b.post(broker.url() + B + "/agents", agentJson(id, "alice@corp.example", null), csrf);
        assertEquals(403, elsewhere.statusCode(), elsewhere.body());
        List<AuditEntry> after = broker.audit("payments-eu").subList(before, broker.audit("payments-eu").size());
        assertEquals(1, after.stream().filter(e -> e.type().equals("admin.request.rejected")).count(), "one audit entry");
        assertEquals(403, ((Number) ManageBroker.json(after.get(after.size() - 1).details()).get("status")).intValue());
        assertEquals("admin:zoë-ops@corp.example", ManageBroker.json(after.get(after.size() - 1).details()).get("actor"));
        assertEquals(404, broker.get(B + "/agents/" + id).statusCode(), "nothing created in payments-eu");
        // broker-wide routes are for super admins
        assertEquals(403, b.get(broker.url() + "/admin/break-glass").statusCode());
    }

    @Test
    void anAuditorReadsEverythingAndChangesNothing() {
        String id = "audited-bot-" + suffix();
        assertEquals(201, broker.post(A + "/agents", agentJson(id, "alice@corp.example", "deploy-reader")).statusCode());
        Browser b = fx.browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "pwd", null);
        String csrf = b.csrf();
        assertEquals(200, b.get(broker.url() + A + "/agents/" + id).statusCode());
        assertEquals(200, b.get(broker.url() + B + "/agents").statusCode());
        assertEquals(200, b.get(broker.url() + A + "/audit/entries").statusCode());
        assertEquals(200, b.get(broker.url() + A + "/roles").statusCode());
        for (String[] change : new String[][]{{A + "/agents/" + id + "/suspend", "{}"}, {A + "/agents", agentJson("x-" + suffix(), "a@b.c", null)},
                {A + "/roles", "{\"name\":\"sneaky\",\"scopes\":[\"x\"]}"}, {A + "/audit/checkpoints", "{}"}}) {
            HttpResponse<String> r = b.post(broker.url() + change[0], change[1], csrf);
            assertEquals(403, r.statusCode(), change[0] + " " + r.body());
        }
        assertEquals(403, b.send(b.req(broker.url() + A + "/agents/" + id).header("X-CSRF-Token", csrf)
                .header("Content-Type", "application/json").method("PATCH", HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}"))).statusCode());
        assertEquals("active", ManageBroker.json(broker.get(A + "/agents/" + id).body()).get("status"), "nothing changed");
    }

    @Test
    void anAgentOwnerSeesAndSteersOnlyTheirAgents() {
        String mine = "zoe-helper-" + suffix();
        String theirs = "bob-helper-" + suffix();
        assertEquals(201, broker.post(A + "/agents", agentJson(mine, OWNER, "deploy-reader")).statusCode());
        assertEquals(201, broker.post(A + "/agents", agentJson(theirs, "bob@corp.example", "deploy-reader")).statusCode());
        Browser b = fx.browser();
        b.signIn("00u-zoe", List.of("engineers"), "pwd", OWNER);
        String csrf = b.csrf();
        List<Object> listed = new ArrayList<>();
        for (Object o : (List<?>) ManageBroker.json(b.get(broker.url() + A + "/agents").body()).get("agents")) {
            listed.add(((Map<?, ?>) o).get("id"));
        }
        assertTrue(listed.contains(mine), listed.toString());
        assertFalse(listed.contains(theirs), listed.toString());
        assertEquals(200, b.get(broker.url() + A + "/agents/" + mine).statusCode());
        assertEquals(403, b.get(broker.url() + A + "/agents/" + theirs).statusCode());
        assertEquals(200, b.post(broker.url() + A + "/agents/" + mine + "/suspend", "{\"reason\":\"on leave\"}", csrf).statusCode());
        assertEquals(403, b.post(broker.url() + A + "/agents/" + theirs + "/suspend", "{}", csrf).statusCode());
        assertEquals("active", ManageBroker.json(broker.get(A + "/agents/" + theirs).body()).get("status"));
        HttpResponse<String> giveAway = b.send(b.req(broker.url() + A + "/agents/" + mine).header("X-CSRF-Token", csrf)
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"owner\":\"bob@corp.example\"}")));
        assertEquals(403, giveAway.statusCode(), giveAway.body());
        assertEquals(403, b.post(broker.url() + A + "/agents", agentJson("new-" + suffix(), OWNER, null), csrf).statusCode());
        assertEquals(403, b.get(broker.url() + A + "/audit/entries").statusCode());
    }

    // ------------------------------------------------------------------------------------------ CSRF

    @Test
    void aCrossSitePostWithTheCookieButNoCsrfTokenIsRefused() {
        Browser b = fx.browser();
        b.signIn("ops.lead", List.of("acme-ops"), "pwd", null);
        String id = "csrf-bot-" + suffix();
        // what a hostile page's auto-submitted form (or fetch with credentials) sends: the cookie rides along, no token
        HttpResponse<String> r = b.send(b.req(broker.url() + A + "/agents").header("Content-Type", "application/json")
                .header("Origin", "https://evil.example").POST(HttpRequest.BodyPublishers.ofString(agentJson(id, "a@b.c", null))));
        assertEquals(403, r.statusCode(), r.body());
        assertTrue(ManageBroker.json(r.body()).get("error_description").toString().contains("CSRF"), r.body());
        assertEquals(403, b.post(broker.url() + A + "/agents", agentJson(id, "a@b.c", null), "wrong-token").statusCode());
        AuditEntry e = last("acme", "admin.request.rejected");
        assertEquals("admin:ops.lead@corp.example", ManageBroker.json(e.details()).get("actor"));
        assertEquals(404, broker.get(A + "/agents/" + id).statusCode(), "nothing created");
        // a bearer token needs no CSRF token (no ambient credential)
        assertEquals(201, broker.post(A + "/agents", agentJson(id, "a@b.c", null)).statusCode());
    }

    // ------------------------------------------------------------------------------------------ step-up

    @Test
    void aPrivilegedActionAsksForStepUpThenSucceedsAfterAnMfaSignIn() {
        String id = "stepup-bot-" + suffix();
        assertEquals(201, broker.post(A + "/agents", agentJson(id, "a@corp.example", "deploy-reader")).statusCode());
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), "pwd", null);
        HttpResponse<String> r = b.post(broker.url() + A + "/agents/" + id + "/revoke", "{}", b.csrf());
        assertEquals(401, r.statusCode(), r.body());
        String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
        assertTrue(challenge.startsWith("Bearer error=\"insufficient_user_authentication\""), challenge);
        assertTrue(challenge.contains("acr_values=\"" + MFA_ACR + "\""), challenge);
        assertTrue(challenge.contains("max_age=300"), challenge);
        assertEquals("insufficient_user_authentication", ManageBroker.json(r.body()).get("error"));
        assertEquals("active", ManageBroker.json(broker.get(A + "/agents/" + id).body()).get("status"), "not revoked");
        // a privileged role cannot be granted either
        assertEquals(401, b.post(broker.url() + A + "/agents", agentJson("p-" + suffix(), "a@b.c", "prod-deployer"), b.csrf()).statusCode());

        // the console's step-up: a fresh sign-in at the IdP asking for MFA (prompt=login, max_age, acr_values, S256)
        Map<String, String> asked = b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        assertEquals("login", asked.get("prompt"));
        assertEquals("300", asked.get("max_age"));
        assertEquals(MFA_ACR, asked.get("acr_values"));
        assertEquals("S256", asked.get("code_challenge_method"));
        assertEquals(true, ManageBroker.json(b.get(broker.url() + "/admin/whoami").body()).get("privileged_now"));
        HttpResponse<String> ok = b.post(broker.url() + A + "/agents/" + id + "/revoke", "{\"reason\":\"leaked key\"}", b.csrf());
        assertEquals(200, ok.statusCode(), ok.body());
        assertEquals("revoked", ManageBroker.json(ok.body()).get("status"));
        assertEquals(201, b.post(broker.url() + A + "/agents", agentJson("p-" + suffix(), "a@b.c", "prod-deployer"), b.csrf()).statusCode());
    }

    @Test
    void automationCredentialsCarryThePrivilegedCapabilityFromTheirCreation() {
        String plain = "ci.plain-" + suffix();
        String priv = "ci.release-" + suffix();
        Map<String, Object> p1 = ManageBroker.json(broker.post("/admin/credentials",
                "{\"client_id\":\"" + plain + "\",\"role\":\"tenant_admin\",\"tenants\":[\"acme\"]}").body());
        Map<String, Object> p2 = ManageBroker.json(broker.post("/admin/credentials",
                "{\"client_id\":\"" + priv + "\",\"role\":\"tenant_admin\",\"tenants\":[\"acme\"],\"privileged\":true}").body());
        String plainToken = token(plain, (String) p1.get("client_secret"));
        String privToken = token(priv, (String) p2.get("client_secret"));
        String id = "auto-bot-" + suffix();
        assertEquals(201, bearer(plainToken, "POST", A + "/agents", agentJson(id, "a@b.c", null)).statusCode());
        assertEquals(403, bearer(plainToken, "GET", B + "/agents", null).statusCode(), "scoped to acme");
        HttpResponse<String> refused = bearer(plainToken, "POST", A + "/agents/" + id + "/revoke", "{}");
        assertEquals(403, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("WWW-Authenticate").isEmpty(), "no MFA challenge for automation");
        assertEquals(200, bearer(privToken, "POST", A + "/agents/" + id + "/revoke", "{}").statusCode());
        Map<String, Object> created = ManageBroker.json(last("_broker", "admin.credential.created").details());
        assertEquals(true, created.get("privileged"));
    }

    @Test
    void theTenantListShowsOnlyTheTenantsTheAdminHoldsARoleIn() {
        // an automation credential of one tenant
        String lister = "ci.lister-" + suffix();
        Map<String, Object> c = ManageBroker.json(broker.post("/admin/credentials",
                "{\"client_id\":\"" + lister + "\",\"role\":\"auditor\",\"tenants\":[\"payments-eu\"]}").body());
        String token = token(lister, (String) c.get("client_secret"));
        HttpResponse<String> mine = bearer(token, "GET", "/admin/tenants", null);
        assertEquals(200, mine.statusCode(), mine.body());
        assertEquals(List.of("payments-eu"), tenantIds(mine.body()));
        // the other broker-wide routes stay a super admin's
        assertEquals(403, bearer(token, "GET", "/admin/credentials", null).statusCode());
        // console admins: a tenant admin of acme, an auditor of every tenant, a super admin
        Browser ops = fx.browser();
        ops.signIn("zoë-ops", List.of("acme-ops"), "pwd", null);
        assertEquals(List.of("acme"), tenantIds(ops.get(broker.url() + "/admin/tenants").body()));
        Browser auditor = fx.browser();
        auditor.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "pwd", null);
        assertEquals(List.of("acme", "demo", "payments-eu"), tenantIds(auditor.get(broker.url() + "/admin/tenants").body()));
        Browser root = fx.browser();
        root.signIn("jonathan.christopher.williams", List.of("Deputy Admins"), "pwd", null);
        assertEquals(List.of("acme", "demo", "payments-eu"), tenantIds(root.get(broker.url() + "/admin/tenants").body()));
    }

    static List<Object> tenantIds(String body) {
        List<Object> ids = new ArrayList<>();
        for (Object o : (List<?>) ManageBroker.json(body).get("tenants")) {
            ids.add(((Map<?, ?>) o).get("id"));
        }
        return ids;
    }

    // ------------------------------------------------------------------------------------------ break-glass

    @Test
    void breakGlassUseIsAuditedAndShownAndItCanBeRotatedAndDisabled() {
        // a privileged super-admin automation credential puts the break-glass credential back whatever happens
        String rescuer = "ops.rescue-" + suffix();
        Map<String, Object> rc = ManageBroker.json(broker.post("/admin/credentials",
                "{\"client_id\":\"" + rescuer + "\",\"role\":\"super_admin\",\"privileged\":true}").body());
        String rescue = token(rescuer, (String) rc.get("client_secret"));
        try {
            String old = broker.adminCredentials().get("client_secret");
            long uses = count("_broker", "admin.break_glass_used");
            String t = token("admin", old);
            assertEquals(uses + 1, count("_broker", "admin.break_glass_used"), "every use audited");
            Map<String, Object> status = ManageBroker.json(bearer(t, "GET", "/admin/break-glass", null).body());
            assertEquals(true, status.get("enabled"));
            assertEquals("generated", status.get("source"));
            assertNotNull(status.get("last_used_at"));
            // a console super admin sees it (API and landing page)
            Browser b = fx.browser();
            b.signIn("root.admin", List.of("Deputy Admins"), "pwd", null);
            assertEquals(status.get("last_used_at"), ManageBroker.json(b.get(broker.url() + "/admin/break-glass").body()).get("last_used_at"));
            assertTrue(b.get(broker.url() + "/console").body().contains("Break-glass credential"));

            Map<String, Object> rotated = ManageBroker.json(bearer(t, "POST", "/admin/break-glass/rotate", null).body());
            String fresh = (String) rotated.get("client_secret");
            assertNotEquals(old, fresh);
            assertNotNull(rotated.get("rotated_at"));
            assertEquals(401, tokenResponse("admin", old).statusCode(), "the old secret is dead");
            assertEquals(fresh, broker.adminCredentials().get("client_secret"), "the credentials file follows");
            assertEquals("api", ManageBroker.json(last("_broker", "admin.break_glass_rotated").details()).get("source"));

            assertEquals(200, bearer(rescue, "POST", "/admin/break-glass/disable", null).statusCode());
            assertEquals(401, tokenResponse("admin", fresh).statusCode(), "disabled");
            assertEquals(401, bearer(t, "GET", "/admin/break-glass", null).statusCode(), "its tokens stop at once");
            assertEquals("admin:" + rescuer, ManageBroker.json(last("_broker", "admin.break_glass_disabled").details()).get("actor"));
            // a console super admin re-enables it: a privileged action, so only after an MFA sign-in
            assertEquals(401, b.post(broker.url() + "/admin/break-glass/enable", "", b.csrf()).statusCode());
            b.stepUp("root.admin", List.of("Deputy Admins"));
            assertEquals(200, b.post(broker.url() + "/admin/break-glass/enable", "", b.csrf()).statusCode());
            assertEquals(200, tokenResponse("admin", fresh).statusCode());
        } finally {
            bearer(rescue, "POST", "/admin/break-glass/enable", null);
        }
    }

    // ------------------------------------------------------------------------------------------ logout

    @Test
    void signingOutEndsTheSessionEverywhereAndGoesToTheIdp() {
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), "pwd", null);
        String cookie = b.sessionCookie();
        assertEquals(403, b.postForm(broker.url() + "/console/logout", Map.of()).statusCode(), "no CSRF token: no sign-out");
        assertEquals(200, b.get(broker.url() + "/admin/whoami").statusCode());
        HttpResponse<String> out = b.postForm(broker.url() + "/console/logout", Map.of("_csrf", b.csrf()));
        assertEquals(303, out.statusCode(), out.body());
        String loc = out.headers().firstValue("Location").orElseThrow();
        assertTrue(loc.startsWith(idp.issuerUrl("corp-admins").toString().replaceAll("/$", "") + "/endsession"), loc);
        Map<String, String> q = query(loc);
        assertEquals(CLIENT_ID, q.get("client_id"));
        assertNotNull(q.get("id_token_hint"));
        assertTrue(q.get("post_logout_redirect_uri").endsWith("/console/signed-out"), loc);
        assertTrue(out.headers().allValues("Set-Cookie").stream().anyMatch(c -> c.startsWith("deputy_console=;") && c.contains("Max-Age=0")),
                out.headers().allValues("Set-Cookie").toString());
        // the old cookie value, replayed: the session is gone
        HttpResponse<String> replay = Browser.raw(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/whoami"))
                .header("Cookie", "deputy_console=" + cookie).GET().build());
        assertEquals(401, replay.statusCode());
        assertEquals("success", last("_broker", "admin.console.logout").outcome());
    }

    // ------------------------------------------------------------------------------------------ console agent pages

    @Test
    void consoleAgentPagesListFilterPageAndActWithConfirmationCsrfAndStepUp() {
        String tag = suffix();
        String owner = "jonathan.christopher.williams@corp.example";
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 52; i++) {
            String id = String.format("payments.settlement.reconciler-%s-%02d", tag, i);
            ids.add(id);
            assertEquals(201, broker.post(A + "/agents", agentJson(id, owner, i == 0 ? "deploy-reader" : null)).statusCode());
        }
        String odd = "zoe-agent-" + tag;
        assertEquals(201, broker.post(A + "/agents", """
                {"id":"%s","name":"Zoë <script>alert(1)</script>","owner":"zoë@corp.example","environment":"prod","auth_method":"private_key_jwt","jwks":%s}"""
                .formatted(odd, TestKeys.publicJwks())).statusCode());
        Browser b = fx.browser();
        assertEquals(303, b.get(broker.url() + "/console/t/acme/agents").statusCode(), "not signed in: to the sign-in");
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), "pwd", null);
        String pages = broker.url() + "/console/t/acme/agents";

        HttpResponse<String> p1 = b.get(pages + "?q=" + tag);
        assertEquals(200, p1.statusCode(), p1.body());
        assertTrue(p1.headers().firstValue("Content-Security-Policy").orElse("").contains("script-src 'self'"));
        assertTrue(p1.body().contains("<span>53</span> agents"), p1.body());
        assertEquals(50, rows(p1.body()), "a page holds 50");
        assertFalse(p1.body().contains("<script>alert"), "escaped");
        HttpResponse<String> p2 = b.get(pages + "?q=" + tag + "&page=2");
        assertEquals(3, rows(p2.body()));
        assertTrue(p2.body().contains("rel=\"prev\""), p2.body());
        assertEquals(1, rows(b.get(pages + "?q=" + tag + "&environment=prod").body()));
        assertEquals(1, rows(b.get(pages + "?q=" + tag + "&role=deploy-reader").body()));
        assertEquals(1, rows(b.get(pages + "?q=" + tag + "&owner=" + enc("zoë@corp.example")).body()));
        assertTrue(b.get(pages + "?q=" + odd).body().contains("Zoë &lt;script&gt;alert(1)&lt;/script&gt;"));

        String id = ids.get(0);
        String agent = pages + "/" + id;
        HttpResponse<String> detail = b.get(agent);
        assertEquals(200, detail.statusCode(), detail.body());
        assertTrue(detail.body().contains("deploy-reader") && detail.body().contains("private_key_jwt"), detail.body());
        assertTrue(detail.body().contains("id=\"actions\""), "a tenant admin sees the actions");
        HttpResponse<String> confirm = b.get(agent + "/suspend");
        assertEquals(200, confirm.statusCode());
        assertTrue(confirm.body().contains("name=\"_csrf\""), confirm.body());

        // a cross-site form post: the cookie but no token
        int before = broker.audit("acme").size();
        HttpResponse<String> forged = b.postForm(agent + "/suspend", Map.of("reason", "x"));
        assertEquals(403, forged.statusCode(), forged.body());
        assertEquals("active", status(id), "nothing changed");
        List<AuditEntry> rejected = broker.audit("acme").subList(before, broker.audit("acme").size()).stream()
                .filter(e -> e.type().equals("admin.request.rejected")).toList();
        assertEquals(1, rejected.size(), "one audit entry");
        assertEquals(A + "/agents/" + id + "/suspend", ManageBroker.json(rejected.get(0).details()).get("path"));

        HttpResponse<String> done = b.postForm(agent + "/suspend", Map.of("_csrf", b.csrf(), "reason", "on leave – zoë"));
        assertEquals(303, done.statusCode(), done.body());
        assertEquals("/console/t/acme/agents/" + id, done.headers().firstValue("Location").orElseThrow());
        assertEquals("suspended", status(id));
        assertEquals(1, rows(b.get(pages + "?q=" + tag + "&status=suspended").body()));
        assertEquals(303, b.postForm(agent + "/resume", Map.of("_csrf", b.csrf())).statusCode());
        assertEquals("active", status(id));
        // resuming an active agent: the service's own refusal, as a page, not a 500
        HttpResponse<String> again = b.postForm(agent + "/resume", Map.of("_csrf", b.csrf()));
        assertTrue(again.statusCode() == 409 || again.statusCode() == 400, again.statusCode() + " " + again.body());

        // revoking is privileged: the step-up page, then after an MFA sign-in it is done
        HttpResponse<String> needsMfa = b.postForm(agent + "/revoke", Map.of("_csrf", b.csrf()));
        assertEquals(401, needsMfa.statusCode(), needsMfa.body());
        assertTrue(needsMfa.body().contains("href=\"/console/step-up\""), needsMfa.body());
        assertEquals("active", status(id));
        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        assertEquals(303, b.postForm(agent + "/revoke", Map.of("_csrf", b.csrf(), "reason", "leaked key")).statusCode());
        assertEquals("revoked", status(id));
        assertFalse(b.get(agent).body().contains("id=\"actions\"") && b.get(agent).body().contains("/revoke\""),
                "a revoked agent offers no revoke");
        assertEquals(404, b.get(pages + "/no-such-agent-" + tag).statusCode());
        assertEquals(404, b.get(broker.url() + "/console/t/nowhere/agents").statusCode());
        assertEquals(403, b.get(broker.url() + "/console/t/payments-eu/agents").statusCode(), "no role in that tenant");
    }

    @Test
    void anAuditorSeesAgentPagesWithoutButtonsAndAForgedPostIsRefused() {
        String id = "audited.page-bot-" + suffix();
        assertEquals(201, broker.post(A + "/agents", agentJson(id, "alice@corp.example", "deploy-reader")).statusCode());
        Browser b = fx.browser();
        b.signIn("sécurité.auditor", List.of("Sicherheit & Prüfung"), "pwd", null);
        String agent = broker.url() + "/console/t/acme/agents/" + id;
        HttpResponse<String> list = b.get(broker.url() + "/console/t/acme/agents?q=" + id);
        assertEquals(200, list.statusCode(), list.body());
        assertTrue(list.body().contains("id=\"read-only\""));
        HttpResponse<String> detail = b.get(agent);
        assertEquals(200, detail.statusCode());
        assertFalse(detail.body().contains("id=\"actions\""), "no buttons");
        assertFalse(b.get(agent + "/revoke").body().contains("id=\"confirm\""), "no confirmation form either");
        for (String action : List.of("suspend", "revoke")) {
            HttpResponse<String> r = b.postForm(agent + "/" + action, Map.of("_csrf", b.csrf()));
            assertEquals(403, r.statusCode(), r.body());
        }
        assertEquals("active", status(id), "nothing changed");
    }

    @Test
    void anAgentOwnerSeesOnlyTheirAgentsInTheConsole() {
        String mine = "zoe.page-helper-" + suffix();
        String theirs = "bob.page-helper-" + suffix();
        assertEquals(201, broker.post(A + "/agents", agentJson(mine, OWNER, null)).statusCode());
        assertEquals(201, broker.post(A + "/agents", agentJson(theirs, "bob@corp.example", null)).statusCode());
        Browser b = fx.browser();
        b.signIn("00u-zoe", List.of("engineers"), "pwd", OWNER);
        String list = b.get(broker.url() + "/console/t/acme/agents").body();
        assertTrue(list.contains(mine), list);
        assertFalse(list.contains(theirs), list);
        assertEquals(403, b.get(broker.url() + "/console/t/acme/agents/" + theirs).statusCode());
        assertEquals(403, b.postForm(broker.url() + "/console/t/acme/agents/" + theirs + "/suspend", Map.of("_csrf", b.csrf())).statusCode());
        assertEquals("active", status(theirs));
        assertTrue(b.get(broker.url() + "/console/t/acme/agents/" + mine).body().contains("id=\"actions\""));
        assertEquals(303, b.postForm(broker.url() + "/console/t/acme/agents/" + mine + "/suspend", Map.of("_csrf", b.csrf())).statusCode());
        assertEquals("suspended", status(mine));
    }

    @Test
    void theConsoleCreateFormFollowsTheApisRules() {
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), "pwd", null);
        String form = broker.url() + "/console/t/acme/new-agent";
        HttpResponse<String> page = b.get(form);
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("name=\"_csrf\"") && page.body().contains("<code>deploy-reader</code>"), page.body());
        assertTrue(b.get(broker.url() + "/console/t/acme/agents").body().contains("id=\"new-agent\""), "the list links the form");
        String id = "payments.settlement.reconciler-" + suffix();
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("id", id);
        fields.put("name", "Zoë <b>Ångström</b>'s reconciler");
        fields.put("owner", OWNER);
        fields.put("environment", "production");
        fields.put("roles", "deploy-reader");
        fields.put("auth_method", "private_key_jwt");
        fields.put("jwks", TestKeys.publicJwks());
        int before = broker.audit("acme").size();

        assertEquals(403, b.postForm(form, fields).statusCode(), "a cross-site post: the cookie, no CSRF token");
        fields.put("_csrf", b.csrf());
        Map<String, String> bad = new LinkedHashMap<>(fields);
        bad.put("jwks", TestKeys.privateJwks());
        HttpResponse<String> refused = b.postForm(form, bad);
        assertEquals(400, refused.statusCode(), refused.body());
        assertTrue(refused.body().contains("id=\"form-error\""), refused.body());
        assertTrue(refused.body().contains("value=\"" + id + "\""), "what was typed comes back");
        assertFalse(refused.body().contains("<b>Ångström"), "escaped");
        assertFalse(refused.body().contains("&quot;d&quot;") || refused.body().contains("\"d\""), "the private key is not echoed");
        bad.put("jwks", "{\"keys\": [");
        assertEquals(400, b.postForm(form, bad).statusCode(), "not JSON");
        Map<String, String> privileged = new LinkedHashMap<>(fields);
        privileged.put("roles", "deploy-reader, prod-deployer");
        HttpResponse<String> stepUp = b.postForm(form, privileged);
        assertEquals(401, stepUp.statusCode(), "a DEPUTY_CONSOLE_PRIVILEGED_ROLES role needs step-up: " + stepUp.body());
        assertTrue(stepUp.body().contains("href=\"/console/step-up\""), stepUp.body());
        privileged.put("roles", "treasury.mover");
        HttpResponse<String> plan = b.postForm(form, privileged);
        assertEquals(403, plan.statusCode(), "a role privileged in its file: only through an approved plan: " + plan.body());
        assertTrue(plan.body().contains("second admin"), plan.body());
        List<AuditEntry> rejected = broker.audit("acme").subList(before, broker.audit("acme").size());
        assertEquals(5, rejected.stream().filter(e -> e.type().equals("admin.request.rejected")).count(),
                () -> "each refusal audited once: " + rejected.stream().map(AuditEntry::details).toList());
        assertTrue(rejected.stream().allMatch(e -> (A + "/agents").equals(ManageBroker.json(e.details()).get("path"))),
                "as the API route the form stands for");
        assertEquals(404, broker.get(A + "/agents/" + id).statusCode(), "nothing created");

        HttpResponse<String> done = b.postForm(form, fields);
        assertEquals(303, done.statusCode(), done.body());
        assertEquals("/console/t/acme/agents/" + id, done.headers().firstValue("Location").orElseThrow());
        Map<String, Object> created = ManageBroker.json(broker.get(A + "/agents/" + id).body());
        assertEquals("Zoë <b>Ångström</b>'s reconciler", created.get("name"));
        assertEquals(OWNER, created.get("owner"));
        assertEquals(List.of("deploy-reader"), created.get("roles"));
        assertEquals(1, ((List<?>) created.get("credentials")).size());
        assertEquals("admin:jonathan.christopher.williams@corp.example",
                ManageBroker.json(broker.lastAudit("acme", "agent.created", id).details()).get("actor"));
        assertEquals(409, b.postForm(form, fields).statusCode(), "the same id again");

        // after a multi-factor sign-in the step-up role can be granted from the form too
        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        privileged.put("_csrf", b.csrf());
        privileged.put("id", id + "-deployer");
        privileged.put("roles", "prod-deployer");
        privileged.put("jwks", TestKeys.publicJwks());
        assertEquals(303, b.postForm(form, privileged).statusCode());
        assertEquals(List.of("prod-deployer"), ManageBroker.json(broker.get(A + "/agents/" + id + "-deployer").body()).get("roles"));

        // auditors and agent owners get no form and cannot post one
        String[][] others = {{"sécurité.auditor", "Sicherheit & Prüfung"}, {"00u-zoe", "engineers"}};
        for (int i = 0; i < others.length; i++) {
            String[] who = others[i];
            String theirId = id + "-other-" + i;
            Browser o = fx.browser();
            o.signIn(who[0], List.of(who[1]), "pwd", i == 1 ? OWNER : null);
            HttpResponse<String> none = o.get(form);
            assertEquals(403, none.statusCode(), none.body());
            assertFalse(none.body().contains("create-agent"), none.body());
            assertFalse(o.get(broker.url() + "/console/t/acme/agents").body().contains("id=\"new-agent\""));
            Map<String, String> theirs = new LinkedHashMap<>(fields);
            theirs.put("_csrf", o.csrf());
            theirs.put("id", theirId);
            assertEquals(403, o.postForm(form, theirs).statusCode());
            assertEquals(404, broker.get(A + "/agents/" + theirId).statusCode());
        }
    }

    @Test
    void anAgentWhoseIdIsNewHasItsPageAndTheCreateFormLivesBesideTheList() {
        // the create form is not under …/agents/: an agent whose id is "new" (a valid id) keeps its own page
        if (broker.get(A + "/agents/new").statusCode() == 404) {
            assertEquals(201, broker.post(A + "/agents", agentJson("new", OWNER, "deploy-reader")).statusCode());
        }
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), "pwd", null);
        HttpResponse<String> page = b.get(broker.url() + "/console/t/acme/agents/new");
        assertEquals(200, page.statusCode(), page.body());
        assertTrue(page.body().contains("Bot new") && page.body().contains(OWNER), "the agent's page: " + page.body());
        assertFalse(page.body().contains("id=\"create-agent\""), "not the create form");
        HttpResponse<String> confirm = b.get(broker.url() + "/console/t/acme/agents/new/suspend");
        assertEquals(200, confirm.statusCode(), confirm.body());
        assertTrue(confirm.body().contains("id=\"confirm\""), confirm.body());
        HttpResponse<String> done = b.postForm(broker.url() + "/console/t/acme/agents/new/suspend",
                Map.of("_csrf", b.csrf(), "reason", "id-new check – zoë"));
        assertEquals(303, done.statusCode(), done.body());
        assertEquals("/console/t/acme/agents/new", done.headers().firstValue("Location").orElseThrow());
        assertEquals("suspended", status("new"));
        assertEquals(303, b.postForm(broker.url() + "/console/t/acme/agents/new/resume", Map.of("_csrf", b.csrf()))
                .statusCode(), "resumed");
        assertEquals("active", status("new"));
        HttpResponse<String> form = b.get(broker.url() + "/console/t/acme/new-agent");
        assertEquals(200, form.statusCode(), form.body());
        assertTrue(form.body().contains("id=\"create-agent\"") && form.body().contains("action=\"/console/t/acme/new-agent\""),
                form.body());
        assertTrue(b.get(broker.url() + "/console/t/acme/agents").body().contains("href=\"/console/t/acme/new-agent\""),
                "the list links the form");
    }

    @Test
    void rotatingACertificateThroughTheApiIsPrivilegedAsRotateAndRevokeAre() {
        String id = "treasury.mtls-bot-" + suffix();
        assertEquals(201, broker.post(A + "/agents", """
                {"id":"%s","name":"Zoë’s mTLS bot","owner":"%s","environment":"prod","auth_method":"tls_client_auth"}"""
                .formatted(id, OWNER)).statusCode());
        String path = A + "/agents/" + id + "/certificates";

        // a console session with a password sign-in: issuing is allowed, rotating asks for step-up (401, audited)
        Browser b = fx.browser();
        b.signIn("jonathan.christopher.williams", List.of("acme-ops"), "pwd", null);
        assertEquals(200, b.post(broker.url() + path, certificateRequest(id, false), b.csrf()).statusCode(), "a certificate without rotation");
        int before = broker.audit("acme").size();
        HttpResponse<String> r = b.post(broker.url() + path, certificateRequest(id, true), b.csrf());
        assertEquals(401, r.statusCode(), r.body());
        String challenge = r.headers().firstValue("WWW-Authenticate").orElse("");
        assertTrue(challenge.startsWith("Bearer error=\"insufficient_user_authentication\""), challenge);
        assertTrue(challenge.contains("acr_values=\"" + MFA_ACR + "\""), challenge);
        assertEquals("insufficient_user_authentication", ManageBroker.json(r.body()).get("error"));
        List<AuditEntry> after = broker.audit("acme").subList(before, broker.audit("acme").size());
        assertEquals(1, after.stream().filter(e -> e.type().equals("admin.request.rejected")).count(), "audited once");
        assertEquals(0, after.stream().filter(e -> e.type().startsWith("agent.certificate")).count(), "nothing issued");
        assertEquals(path, ManageBroker.json(after.stream().filter(e -> e.type().equals("admin.request.rejected"))
                .findFirst().orElseThrow().details()).get("path"));
        b.stepUp("jonathan.christopher.williams", List.of("acme-ops"));
        HttpResponse<String> ok = b.post(broker.url() + path, certificateRequest(id, true), b.csrf());
        assertEquals(200, ok.statusCode(), ok.body());

        // automation: the privileged capability decides, as for revoke (403 without it, no MFA challenge)
        String plain = "ci.certs-" + suffix();
        String priv = "ci.certs-priv-" + suffix();
        Map<String, Object> p1 = ManageBroker.json(broker.post("/admin/credentials",
                "{\"client_id\":\"" + plain + "\",\"role\":\"tenant_admin\",\"tenants\":[\"acme\"]}").body());
        Map<String, Object> p2 = ManageBroker.json(broker.post("/admin/credentials",
                "{\"client_id\":\"" + priv + "\",\"role\":\"tenant_admin\",\"tenants\":[\"acme\"],\"privileged\":true}").body());
        String plainToken = token(plain, (String) p1.get("client_secret"));
        String privToken = token(priv, (String) p2.get("client_secret"));
        assertEquals(200, bearer(plainToken, "POST", path, certificateRequest(id, false)).statusCode(), "issuing is not privileged");
        HttpResponse<String> refused = bearer(plainToken, "POST", path, certificateRequest(id, true));
        assertEquals(403, refused.statusCode(), refused.body());
        assertTrue(refused.headers().firstValue("WWW-Authenticate").isEmpty(), "no MFA challenge for automation");
        assertEquals(200, bearer(privToken, "POST", path, certificateRequest(id, true)).statusCode());
        assertEquals(200, broker.post(path, certificateRequest(id, true)).statusCode(), "the break-glass credential is privileged");
    }

    static String certificateRequest(String agent, boolean rotate) {
        return json(Map.of("csr", dev.deputy.broker.oauth.TestKeys.csr(dev.deputy.broker.oauth.TestKeys.ecKeyPair("secp256r1"), agent),
                "ttl", "1h", "rotate", rotate, "overlap", "5m"));
    }

    String status(String id) {
        return (String) ManageBroker.json(broker.get(A + "/agents/" + id).body()).get("status");
    }

    static int rows(String html) {
        return html.split("data-agent=\"", -1).length - 1;
    }

    // ------------------------------------------------------------------------------------------ helpers

    static String agentJson(String id, String owner, String role) {
        return ConsoleFixture.agentJson(id, owner, role);
    }

    static String suffix() {
        return ConsoleFixture.suffix();
    }

    AuditEntry last(String tenant, String type) {
        return broker.lastAudit(tenant, type, null);
    }

    long count(String tenant, String type) {
        return broker.audit(tenant).stream().filter(e -> e.type().equals(type)).count();
    }

    HttpResponse<String> tokenResponse(String id, String secret) {
        return Browser.raw(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&client_id=" + enc(id) + "&client_secret=" + enc(secret)))
                .build());
    }

    String token(String id, String secret) {
        HttpResponse<String> r = tokenResponse(id, secret);
        assertEquals(200, r.statusCode(), r.body());
        return (String) ManageBroker.json(r.body()).get("access_token");
    }

    HttpResponse<String> bearer(String token, String method, String path, String json) {
        return Browser.raw(HttpRequest.newBuilder(URI.create(broker.url() + path)).header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)).build());
    }

    static String json(Object o) {
        return ConsoleFixture.json(o);
    }

    static String enc(String s) {
        return ConsoleFixture.enc(s);
    }

    static Map<String, String> query(String location) {
        return ConsoleFixture.query(location);
    }
}
