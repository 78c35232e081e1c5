package dev.deputy.broker.console;

import dev.deputy.broker.admin.ConnectorAdmin;
import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.connectors.ConnectorTestReport;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
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

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The console's connector page, {@code /console/t/<tenant>/connectors}: the list (type, issuer, enabled, from a config
 * file or the API), a form that adds a connector, the test report ({@code deputy connector test}'s checks), enable,
 * and disable after a confirmation step. Each request is decided by the admin API's access check for the route that
 * does the same ({@link ConsoleGate}: roles per tenant, the form's CSRF token, step-up for a change), and the work is
 * the admin API's own ({@link ConnectorAdmin}): the same validation, storage, sealing of the secret and audit entries.
 */
@Controller("/console/t/{tenant}/connectors")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleConnectorsController {
    static final List<String> TYPES = List.of("oidc", "okta", "auth0", "entra", "keycloak");
    private static final Set<String> ACTIONS = Set.of("test", "enable", "disable");
    /** The form's fields (the secret is never sent back). */
    private static final List<String> FIELDS = List.of("id", "display_name", "type", "issuer", "client_id", "scopes",
            "email_domains", "role_mapping", "enabled", "default");

    /** The list's refusal leads to the console home; a change's, back to the list. */
    private static final ConsoleTenantPages.Back HOME = ConsoleTenantPages.Back.to("/console", "Back to the console");

    private final ConsoleTenantPages pages;
    private final ConsoleGate gate;
    private final ConnectorAdmin connectors;

    ConsoleConnectorsController(ConsoleTenantPages pages, ConnectorAdmin connectors) {
        this.pages = pages;
        this.gate = pages.gate();
        this.connectors = connectors;
    }

    private static ConsoleTenantPages.Back back(String tenant) {
        return ConsoleTenantPages.Back.to(base(tenant), "Back to the connectors");
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> list(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        return render(tenant, request, auth, null, null, null, Map.of("enabled", "true"));
    }

    /** The confirmation step before disabling. */
    @Get(uri = "/{id}/disable", produces = MediaType.TEXT_HTML)
    HttpResponse<?> confirmDisable(@PathVariable String tenant, @PathVariable String id, HttpRequest<?> request,
                                   @Nullable Authentication auth) {
        return render(tenant, request, auth, id, null, null, Map.of("enabled", "true"));
    }

    @Post(consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> add(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                        @Nullable @Body Map<String, String> form) {
        Map<String, String> f = form == null ? Map.of() : form;
        String path = ConsoleGate.apiPath(tenant, "connectors");
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.POST, path, f.get("_csrf"), back(tenant));
        if (v.stopped()) {
            return v.stop();
        }
        try {
            TenantConnectors.Entry e = connectors.add(tenant, connectorMap(f), Actor.admin(v.admin().name()),
                    RequestMetaFilter.of(request));
            return ConsoleTenantPages.seeOther(base(tenant) + "?added=" + ConsoleTenantPages.segment(e.id()));
        } catch (ConnectorAdmin.Refused e) {
            gate.failed(request, HttpMethod.POST, path, e.code(), e.status(), e.getMessage());
            Map<String, String> echo = new LinkedHashMap<>();
            FIELDS.forEach(k -> {
                if (f.get(k) != null) {
                    echo.put(k, f.get(k));
                }
            });
            return render(tenant, request, auth, null, null, e, echo);
        }
    }

    @Post(uri = "/{id}/{action}", consumes = MediaType.APPLICATION_FORM_URLENCODED, produces = MediaType.TEXT_HTML)
    HttpResponse<?> act(@PathVariable String tenant, @PathVariable String id, @PathVariable String action,
                        HttpRequest<?> request, @Nullable Authentication auth, @Nullable @Body Map<String, String> form) {
        ConsoleTenantPages.Visit entered = pages.enter(auth, tenant);
        if (entered.stopped()) {
            return entered.stop();
        }
        if (!ACTIONS.contains(action)) {
            return ConsoleTenantPages.plainNotFound();
        }
        String path = ConsoleGate.apiPath(tenant, "connectors", id, action);
        ConsoleTenantPages.Visit v = pages.allow(request, entered, HttpMethod.POST, path,
                form == null ? null : form.get("_csrf"), back(tenant));
        if (v.stopped()) {
            return v.stop();
        }
        Actor actor = Actor.admin(v.admin().name());
        try {
            if (action.equals("test")) {
                ConnectorTestReport r = connectors.test(tenant, id, actor, RequestMetaFilter.of(request));
                return render(tenant, request, auth, null, ConnectorAdmin.report(id, r), null, Map.of("enabled", "true"));
            }
            connectors.setEnabled(tenant, id, action.equals("enable"), actor, RequestMetaFilter.of(request));
            return ConsoleTenantPages.seeOther(base(tenant));
        } catch (ConnectorAdmin.Refused e) {
            gate.failed(request, HttpMethod.POST, path, e.code(), e.status(), e.getMessage());
            return pages.failed(request, v, e.status(), e.getMessage(), back(tenant));
        }
    }

    /**
     * The page: the list, and one of the confirmation step ({@code confirm}: a connector id), a test report, or the
     * add form (with the refusal of a form just sent and its values, never the secret).
     */
    private HttpResponse<?> render(String tenant, HttpRequest<?> request, @Nullable Authentication auth,
                                   @Nullable String confirm, @Nullable Map<String, Object> report,
                                   @Nullable ConnectorAdmin.Refused error, Map<String, String> values) {
        ConsoleTenantPages.Visit v = pages.open(request, auth, tenant, HttpMethod.GET,
                ConsoleGate.apiPath(tenant, "connectors"), null, HOME);
        if (v.stopped()) {
            return v.stop();
        }
        boolean mayChange = v.admin().manages(tenant);
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> confirmed = null;
        for (TenantConnectors.Entry e : connectors.list(tenant)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", e.id());
            m.put("name", e.displayName());
            m.put("type", e.type());
            m.put("issuer", e.connector().config().issuer());
            m.put("enabled", e.enabled());
            m.put("isDefault", e.isDefault());
            m.put("fromApi", "api".equals(e.source()));
            m.put("href", base(tenant) + "/" + ConsoleTenantPages.segment(e.id()));
            rows.add(m);
            if (e.id().equals(confirm)) {
                confirmed = m;
            }
        }
        if (confirm != null && confirmed == null) {
            return pages.notFound(request, v);
        }
        Map<String, Object> model = pages.model(v, base(tenant));
        model.put("connectors", rows);
        model.put("confirm", mayChange ? confirmed : null);
        model.put("report", report);
        model.put("error", error == null ? null : error.getMessage());
        model.put("errorCode", error == null ? null : error.code());
        model.put("v", values);
        model.put("types", TYPES);
        model.put("added", request.getParameters().get("added"));
        return pages.render(request, v, error == null ? 200 : error.status(), "console/connectors", model);
    }

    /**
     * The form as the admin API's JSON body: lists split on commas and white space, {@code role_mapping} one
     * {@code group = role, role} per line, the two check boxes as booleans. Validation is the API's.
     */
    static Map<String, Object> connectorMap(Map<String, String> f) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String k : List.of("id", "type", "issuer", "client_id", "client_secret", "display_name")) {
            String v = f.get(k);
            if (v != null && !v.isBlank()) {
                m.put(k, k.equals("client_secret") ? v : v.strip());
            }
        }
        for (String k : List.of("scopes", "email_domains")) {
            List<String> items = split(f.get(k));
            if (!items.isEmpty()) {
                m.put(k, items);
            }
        }
        String mapping = f.get("role_mapping");
        if (mapping != null && !mapping.isBlank()) {
            Map<String, Object> rm = new LinkedHashMap<>();
            String[] lines = mapping.split("\\R");
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i].strip();
                if (line.isEmpty()) {
                    continue;
                }
                int eq = line.lastIndexOf('=');
                List<String> roles = eq < 0 ? List.of() : split(line.substring(eq + 1));
                if (eq <= 0 || line.substring(0, eq).isBlank() || roles.isEmpty()) {
                    throw new ConnectorAdmin.Refused(400, "invalid_config", "role_mapping line " + (i + 1)
                            + ": write one upstream group per line as: group = role, role");
                }
                rm.put(line.substring(0, eq).strip(), roles);
            }
            m.put("role_mapping", rm);
        }
        m.put("enabled", "true".equals(f.get("enabled")));
        m.put("default", "true".equals(f.get("default")));
        return m;
    }

    private static List<String> split(String s) {
        if (s == null || s.isBlank()) {
            return List.of();
        }
        return Arrays.stream(s.split("[,\\s]+")).map(String::strip).filter(x -> !x.isEmpty()).toList();
    }

    private static String base(String tenant) {
        return ConsoleTenantPages.base(tenant, "connectors");
    }
}
