package dev.deputy.broker.config;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.AdminCredentialStore;
import dev.deputy.broker.admin.ManageBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Provisioning guardrails over HTTP: a plan that creates an agent with a privileged role, or grants one, needs a
 * second admin's approval of exactly that plan before apply carries it out; the approval is single-use and expires.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PlanApprovalHttpTest {
    static final String T = "/admin/t/demo";
    static final ObjectMapper JSON = new ObjectMapper();
    static final String ROLE = "roles/payments.settlement.yml";
    static final String ROLE_YML = "description: settles payments\nscopes: [payments:settle]\nprivileged: true\n";
    ManageBroker broker;
    String second;

    @BeforeAll
    void start() throws Exception {
        broker = ManageBroker.start(false);
        // a second admin identity (the credential store is what admin sign-in checks)
        String secret = "second-admin-secret-0123456789abcdef";
        assertTrue(broker.bean(AdminCredentialStore.class).createIfAbsent(new AdminCredentialStore.AdminCredential(
                "jonathan.christopher.williams", HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest(secret.getBytes(StandardCharsets.UTF_8))), System.currentTimeMillis(), false,
                new AdminCredentialStore.Scope(dev.deputy.broker.admin.AdminRole.SUPER_ADMIN, java.util.List.of(), true, false))));
        String basic = Base64.getEncoder().encodeToString(("jonathan.christopher.williams:" + secret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = broker.send(HttpRequest.newBuilder(URI.create(broker.url() + "/admin/token"))
                .header("Authorization", "Basic " + basic).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials")));
        assertEquals(200, r.statusCode(), r.body());
        second = (String) ManageBroker.json(r.body()).get("access_token");
    }

    @AfterAll
    void stop() {
        broker.close();
    }

    static String body(Map<String, String> files) throws Exception {
        return JSON.writeValueAsString(Map.of("files", files));
    }

    static Map<String, String> tree(String... pairs) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(ROLE, ROLE_YML);
        m.put("roles/reader.yml", "scopes: [files:read]\n");
        for (int i = 0; i < pairs.length; i += 2) {
            m.put(pairs[i], pairs[i + 1]);
        }
        return m;
    }

    HttpResponse<String> asSecond(String method, String path, String json) {
        return broker.send(HttpRequest.newBuilder(URI.create(broker.url() + path)).header("Authorization", "Bearer " + second)
                .header("Content-Type", "application/json")
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json)));
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> plan(Map<String, String> files) throws Exception {
        HttpResponse<String> r = broker.post(T + "/apply?dry_run=true", body(files));
        assertEquals(200, r.statusCode(), r.body());
        return ManageBroker.json(r.body());
    }

    @Test
    @SuppressWarnings("unchecked")
    void aPrivilegedGrantWaitsForASecondAdmin() throws Exception {
        String agent = "agents/payments.settlement.reconciler.yml";
        Map<String, String> x = tree(agent, "environment: prod\nauth_method: tls_client_auth\nroles: [payments.settlement]\n");
        // the role itself is created without approval; the agent holding it is not
        Map<String, Object> p = plan(x);
        String id = (String) p.get("plan_id");
        assertEquals(64, id.length());
        assertEquals(List.of("new agent payments.settlement.reconciler gets privileged role [payments.settlement]"), p.get("privileged"));
        Map<String, Object> approval = (Map<String, Object>) p.get("approval");
        assertEquals("pending", approval.get("status"));
        assertEquals("admin", approval.get("requested_by"));
        assertTrue(((String) p.get("plan")).contains("a second admin must approve plan " + id), (String) p.get("plan"));
        assertEquals(id, plan(x).get("plan_id"), "the same tree and state is the same plan");
        assertNotNull(broker.lastAudit("demo", "plan.approval_requested", null));

        // apply without approval: 403, nothing changes
        HttpResponse<String> r = broker.post(T + "/apply?dry_run=false", body(x));
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("approval_required", ManageBroker.json(r.body()).get("error"));
        assertTrue(((String) ManageBroker.json(r.body()).get("error_description")).contains("deputy plan approve " + id), r.body());
        assertEquals(404, broker.get(T + "/agents/payments.settlement.reconciler").statusCode());
        assertEquals(404, broker.get(T + "/roles/payments.settlement").statusCode(), "a refused plan changes nothing");

        // the admin who submitted it cannot approve it
        r = broker.post(T + "/plans/" + id + "/approve", null);
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("access_denied", ManageBroker.json(r.body()).get("error"));
        assertTrue(broker.lastAudit("demo", "plan.refused", null).details().contains("own plan"));

        // the pending list shows it to the second admin, who approves
        r = asSecond("GET", T + "/plans?status=pending", null);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.body().contains(id), r.body());
        r = asSecond("POST", T + "/plans/" + id + "/approve", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("approved", ManageBroker.json(r.body()).get("status"));
        assertEquals("jonathan.christopher.williams", ManageBroker.json(r.body()).get("approved_by"));
        assertEquals(409, asSecond("POST", T + "/plans/" + id + "/approve", null).statusCode(), "approved once");

        // the approval of X does not cover Y (one more key in the agent file)
        Map<String, String> y = tree(agent, "environment: prod\nauth_method: tls_client_auth\nroles: [payments.settlement]\n"
                + "metadata: {team: zoë-agent}\n");
        Map<String, Object> py = plan(y);
        assertNotEquals(id, py.get("plan_id"));
        r = broker.post(T + "/apply?dry_run=false", body(y));
        assertEquals(403, r.statusCode(), r.body());
        assertEquals(404, broker.get(T + "/agents/payments.settlement.reconciler").statusCode());

        // X applies, once
        r = broker.post(T + "/apply?dry_run=false", body(x));
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> agentView = ManageBroker.json(broker.get(T + "/agents/payments.settlement.reconciler").body());
        assertEquals(List.of("payments.settlement"), agentView.get("roles"));
        var applied = broker.lastAudit("demo", "plan.applied", null);
        assertTrue(applied.details().contains("jonathan.christopher.williams") && applied.details().contains(id), applied.details());
        r = broker.get(T + "/plans/" + id);
        assertEquals("applied", ManageBroker.json(r.body()).get("status"));
        assertEquals(0, ((List<?>) plan(x).get("changes")).size(), "nothing left to do");

        // the admin API never grants a privileged role around the plan
        r = broker.post(T + "/agents", "{\"id\":\"api.payments\",\"environment\":\"prod\",\"auth_method\":\"tls_client_auth\","
                + "\"roles\":[\"payments.settlement\"]}");
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("approval_required", ManageBroker.json(r.body()).get("error"));
        assertEquals(404, broker.get(T + "/agents/api.payments").statusCode());
        assertEquals(201, broker.post(T + "/agents", "{\"id\":\"api.payments\",\"environment\":\"prod\","
                + "\"auth_method\":\"tls_client_auth\",\"roles\":[\"reader\"]}").statusCode());
        r = broker.patch(T + "/agents/api.payments", "{\"roles\":[\"reader\",\"payments.settlement\"]}");
        assertEquals(403, r.statusCode(), r.body());
        assertEquals(List.of("reader"), ManageBroker.json(broker.get(T + "/agents/api.payments").body()).get("roles"));

        // taking the mark away and granting the role in the same plan still needs approval
        Map<String, String> z = tree(agent, "environment: prod\nauth_method: tls_client_auth\nroles: [payments.settlement]\n",
                "agents/ledger-bot.yml", "environment: prod\nauth_method: tls_client_auth\nroles: [reader, payments.settlement]\n");
        z.put(ROLE, "scopes: [payments:settle]\n");
        Map<String, Object> pz = plan(z);
        assertEquals(2, ((List<?>) pz.get("privileged")).size(), pz.toString());
        // the second admin approves; the approver cannot also be the one who applies it
        assertEquals(200, asSecond("POST", T + "/plans/" + pz.get("plan_id") + "/approve", null).statusCode());
        r = asSecond("POST", T + "/apply?dry_run=false", body(z));
        assertEquals(403, r.statusCode(), r.body());
        assertTrue(r.body().contains("cannot also apply"), r.body());
        assertEquals(404, broker.get(T + "/agents/ledger-bot").statusCode());
    }

    @Test
    void anApprovalExpires() throws Exception {
        Map<String, String> w = tree("agents/expiring-bot.yml",
                "environment: prod\nauth_method: tls_client_auth\nroles: [payments.settlement]\n");
        String id = (String) plan(w).get("plan_id");
        // approved by the second admin 25 hours ago (the lifetime is 24 h)
        long past = System.currentTimeMillis() - Duration.ofHours(25).toMillis();
        PlanApprovals approvals = broker.bean(PlanApprovals.class);
        assertEquals(Duration.ofHours(24), approvals.ttl());
        broker.bean(PlanApprovalStore.class).approve("demo", id, "jonathan.christopher.williams", past,
                past + approvals.ttl().toMillis());
        HttpResponse<String> r = broker.post(T + "/apply?dry_run=false", body(w));
        assertEquals(403, r.statusCode(), r.body());
        assertTrue(r.body().contains("expired"), r.body());
        assertEquals(404, broker.get(T + "/agents/expiring-bot").statusCode());
        assertEquals(409, asSecond("POST", T + "/plans/" + id + "/approve", null).statusCode(), "expired: plan again");
        // planning again makes a fresh request of the same id
        assertEquals("pending", ((Map<?, ?>) plan(w).get("approval")).get("status"));
        assertNull(approvals.find("demo", id).orElseThrow().approvedBy());
        assertEquals(400, broker.post(T + "/plans/not-a-plan-id/approve", null).statusCode());
        assertEquals(404, asSecond("POST", T + "/plans/" + "0".repeat(64) + "/approve", null).statusCode());
    }
}
