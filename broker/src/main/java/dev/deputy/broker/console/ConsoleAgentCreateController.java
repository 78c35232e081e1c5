package dev.deputy.broker.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.admin.AdminRefusal;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.admin.signin.ConsoleSettings;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.AgentException;
import dev.deputy.broker.agent.AgentSpec;
import dev.deputy.broker.agent.Agents;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.agent.CredentialSpec;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.annotation.Value;
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

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The console's create-agent form: {@code GET /console/t/<tenant>/agents/new} and its {@code POST}. The page asks the
 * admin API's own authorization about {@code POST /admin/t/<tenant>/agents} ({@link ConsoleGate}: roles per tenant, the
 * form's CSRF token), applies the API's rule for granting roles (a privileged role only through an approved plan, a
 * step-up role only after a recent multi-factor sign-in), and creates the agent through the same {@link Agents} service
 * with the same validation; a refusal or bad input is audited as the API's ({@code admin.request.rejected}) and the form
 * comes back with the message and what was typed, nothing created.
 */
@Controller("/console/t/{tenant}/agents/new")
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

    private final boolean enabled;
    private final Agents agents;
    private final Catalog catalog;
    private final Tenants tenants;
    private final ConsoleGate gate;
    private final PageSupport pages;

    ConsoleAgentCreateController(@Value("${deputy.console.enabled:false}") boolean enabled, Agents agents,
                                 Catalog catalog, Tenants tenants, ConsoleGate gate, PageSupport pages) {
        this.enabled = enabled;
        this.agents = agents;
        this.catalog = catalog;
        this.tenants = tenants;
        this.gate = gate;
        this.pages = pages;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> form(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        Optional<AdminPrincipal> who = signedIn(auth);
        if (who.isEmpty()) {
            return signIn();
        }
        Optional<Tenant> t = find(tenant);
        if (t.isEmpty()) {
            return notFound();
        }
        // the page is for those who may create: an auditor or an agent owner gets the refusal, not a form
        try {
            gate.check(who.get(), request, HttpMethod.GET, ConsoleGate.apiPath(tenant, "agents"), null);
            if (!who.get().manages(tenant)) {
                throw AdminRefusal.forbidden(who.get().name() + " may not create agents in tenant " + tenant);
            }
        } catch (AdminRefusal e) {
            return refused(request, t.get(), e);
        }
        Map<String, String> values = new LinkedHashMap<>();
        values.put("auth_method", AUTH_METHODS.getFirst());
        return page(request, t.get(), who.get(), 200, values, null);
    }

    @Post(consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> create(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                           @Nullable @Body Map<String, String> form) {
        Optional<AdminPrincipal> who = signedIn(auth);
        if (who.isEmpty()) {
            return signIn();
        }
        Optional<Tenant> t = find(tenant);
        if (t.isEmpty()) {
            return notFound();
        }
        AdminPrincipal p = who.get();
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
        try {
            gate.check(p, request, HttpMethod.POST, path, f.get("_csrf"));
        } catch (AdminRefusal e) {
            return refused(request, t.get(), e);
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
            return refused(request, t.get(), e); // a step-up role: audited by the gate
        } catch (AgentException e) {
            gate.failed(request, HttpMethod.POST, path, e);
            if (values.get("jwks") != null && values.get("jwks").contains("\"d\"")) {
                values.put("jwks", null); // a pasted private key is not sent back into the page
            }
            return page(request, t.get(), p, e.kind().status(), values, e.getMessage());
        }
        return PageSupport.secure(HttpResponse.seeOther(URI.create(agentsBase(tenant) + "/" + created.agent().id())));
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

    private MutableHttpResponse<?> page(HttpRequest<?> request, Tenant t, AdminPrincipal p, int status,
                                        Map<String, String> values, @Nullable String error) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("admin", p.name());
        model.put("csrf", p.session().csrf());
        model.put("base", agentsBase(t.id()));
        model.put("action", agentsBase(t.id()) + "/new");
        model.put("navTenant", t.id());
        model.put("v", values);
        model.put("error", error);
        model.put("methods", AUTH_METHODS);
        model.put("roles", catalog.roles(t.id()).stream().map(Role::name).sorted().toList());
        return pages.page(request, t, status, "console/agent-new", model, null);
    }

    private static Optional<AdminPrincipal> signedIn(@Nullable Authentication auth) {
        return AdminPrincipal.of(auth).filter(p -> p.kind() == AdminPrincipal.Kind.CONSOLE && p.session() != null);
    }

    private Optional<Tenant> find(String tenant) {
        return enabled ? tenants.find(tenant) : Optional.empty();
    }

    private static String agentsBase(String tenant) {
        return "/console/t/" + URLEncoder.encode(tenant, StandardCharsets.UTF_8) + "/agents";
    }

    private MutableHttpResponse<?> signIn() {
        if (!enabled) {
            return HttpResponse.notFound();
        }
        return PageSupport.secure(HttpResponse.seeOther(URI.create("/console/oauth/login/" + ConsoleSettings.CLIENT)));
    }

    private MutableHttpResponse<?> refused(HttpRequest<?> request, Tenant t, AdminRefusal e) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("status", e.status());
        model.put("message", e.getMessage());
        model.put("stepUp", e.challenge() != null);
        model.put("base", agentsBase(t.id()));
        MutableHttpResponse<?> r = pages.page(request, t, e.status(), "console/refused", model, null);
        return e.challenge() == null ? r : r.header("WWW-Authenticate", e.challenge());
    }

    private static MutableHttpResponse<?> notFound() {
        return PageSupport.secure(HttpResponse.notFound().contentType(MediaType.TEXT_PLAIN_TYPE).body("Not found"));
    }

    @Nullable
    private static String trim(@Nullable String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }
}
