package dev.deputy.broker.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.AgentSpec;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.CredentialSpec;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.http.RequestMetaFilter;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The console's create-agent form: {@code GET /console/t/<tenant>/new-agent} and its {@code POST} (beside the agent
 * list, not under it: {@code …/agents/<id>} is any agent's page, an agent whose id is {@code new} too). The page asks the
 * admin API's own authorization about {@code POST /admin/t/<tenant>/agents} ({@link ConsoleGate}: roles per tenant, the
 * form's CSRF token), applies the API's rule for granting roles (a privileged role only through an approved plan, a
 * step-up role only after a recent multi-factor sign-in), and creates the agent through the same {@link Agents} service
 * with the same validation; a refusal or bad input is audited as the API's ({@code admin.request.rejected}) and the form
 * comes back with the message and what was typed, nothing created.
 */
@Controller("/console/t/{tenant}/new-agent")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleAgentCreateController {
    static final List<String> AUTH_METHODS = List.of("private_key_jwt", "self_signed_tls_client_auth", "tls_client_auth");
    /** The form's text fields, in the order of the page. */
    static final List<String> FIELDS = List.of("id", "name", "owner", "environment", "roles", "auth_method", "jwks",
            "jwks_uri", "certificate");
    /** A generous bound for a pasted JWK Set or certificate chain; the service checks the content. */
    static final int MAX_FIELD = 64 * 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Agents agents;
    private final Catalog catalog;
    private final ConsoleTenantPages pages;
    private final ConsoleGate gate;

    ConsoleAgentCreateController(Agents agents, Catalog catalog, ConsoleTenantPages pages) {
        this.agents = agents;
        this.catalog = catalog;
        this.pages = pages;
        this.gate = pages.gate();
    }

    /** The form's own address. */
    static String path(String tenant) {
        return ConsoleTenantPages.base(tenant, "new-agent");
    }

    /** A refusal's way back: the agent list. */
    private static ConsoleTenantPages.Back back(String tenant) {
        return ConsoleTenantPages.Back.to(agentsBase(tenant), "Back to the agents");
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> form(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        // the page is for those who may create: an auditor or an agent owner gets the refusal, not a form
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, back(tenant), p -> {
            gate.check(p, request, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents"), null);
            if (!p.manages(tenant)) {
                throw AdminRefusal.forbidden(p.name() + " may not create agents in tenant " + tenant);
            }
        });
        if (v.stopped()) {
            return v.stop();
        }
        Map<String, String> values = new LinkedHashMap<>();
        values.put("auth_method", AUTH_METHODS.getFirst());
        return page(request, v, 200, values, null);
    }

    @Post(consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> create(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                           @Nullable @Body Map<String, String> form) {
        ConsoleTenantPages.Visit entered = pages.enter(auth, tenant);
        if (entered.stopped()) {
            return entered.stop();
        }
        AdminPrincipal p = entered.admin();
        Map<String, String> f = form == null ? Map.of() : form;
        String path = ConsoleGate.apiPath(tenant, "agents");
        Map<String, String> values = new LinkedHashMap<>();
        String tooLong = null;
        for (String k : FIELDS) {
            String v = trim(f.get(k));
            if (v != null && v.length() > MAX_FIELD) {
                tooLong = k;
                v = v.substring(0, MAX_FIELD);
            }
            values.put(k, v);
        }
        List<String> roles = values.get("roles") == null ? List.of()
                : Arrays.stream(values.get("roles").split("[\\s,]+")).filter(r -> !r.isBlank()).distinct().toList();
        ConsoleTenantPages.Visit v = pages.allow(request, entered, HttpMethod.POST, path, f.get("_csrf"), back(tenant));
        if (v.stopped()) {
            return v.stop();
        }
        Agents.Details created;
        try {
            if (tooLong != null) {
                throw AgentException.invalid(tooLong + " is longer than " + MAX_FIELD + " characters");
            }
            gate.checkGrants(p, request, path, tenant, roles);
            CredentialSpec credential = new CredentialSpec(jwks(values.get("jwks")), values.get("jwks_uri"),
                    values.get("certificate"));
            created = agents.create(tenant, new AgentSpec(values.get("id"), values.get("name"), values.get("owner"),
                    values.get("environment"), roles, null, values.get("auth_method"),
                    credential.empty() ? null : credential), "api", Actor.admin(p.name()), RequestMetaFilter.of(request));
        } catch (AdminRefusal e) {
            return pages.refused(request, v.tenant(), e, back(tenant)); // a step-up role: audited by the gate
        } catch (AgentException e) {
            gate.failed(request, HttpMethod.POST, path, e);
            if (values.get("jwks") != null && values.get("jwks").contains("\"d\"")) {
                values.put("jwks", null); // a pasted private key is not sent back into the page
            }
            return page(request, v, e.kind().status(), values, e.getMessage());
        }
        return ConsoleTenantPages.seeOther(agentsBase(tenant) + "/" + created.agent().id());
    }

    /** The pasted JWK Set, as the API's {@code jwks} object (the service checks that it holds public keys only). */
    @Nullable
    private static Map<String, Object> jwks(@Nullable String text) {
        if (text == null) {
            return null;
        }
        try {
            return JSON.readValue(text, new TypeReference<Map<String, Object>>() {
            });
        } catch (JsonProcessingException e) {
            throw AgentException.invalid("the JWK Set is not a JSON object (RFC 7517 §5: {\"keys\":[...]})");
        }
    }

    private MutableHttpResponse<?> page(HttpRequest<?> request, ConsoleTenantPages.Visit v, int status,
                                        Map<String, String> values, @Nullable String error) {
        Map<String, Object> model = pages.model(v, agentsBase(v.id()));
        model.put("action", path(v.id()));
        model.put("v", values);
        model.put("error", error);
        model.put("methods", AUTH_METHODS);
        model.put("roles", catalog.roles(v.id()).stream().map(Role::name).sorted().toList());
        return pages.render(request, v, status, "console/agent-new", model);
    }

    private static String agentsBase(String tenant) {
        return ConsoleTenantPages.base(tenant, "agents");
    }

    @Nullable
    private static String trim(@Nullable String s) {
        return ConsoleTenantPages.trim(s);
    }
}
