package dev.deputy.broker.admin;

import dev.deputy.broker.agent.Actor;
import dev.deputy.broker.agent.Catalog;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.federation.TenantConnectors;
import dev.deputy.connectors.ConnectorException;
import dev.deputy.connectors.ConnectorTestReport;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the admin API does to a tenant's connectors — add (the connector map, validated and stored by
 * {@link TenantConnectors}; the client secret sealed, never returned), test (the connector's own checks plus the
 * role mapping), enable, disable, remove — with its audit entries. The API ({@code ConnectorAdminController}) and the
 * console's connector pages both call it, so a connector added from a form is checked and stored exactly as one
 * added through the API. Authorization is the caller's ({@link AdminAccess} / {@link ConsoleGate}).
 */
@Singleton
public class ConnectorAdmin {
    private final TenantConnectors connectors;
    private final AuditLog audit;
    private final Catalog catalog;

    ConnectorAdmin(TenantConnectors connectors, AuditLog audit, Catalog catalog) {
        this.connectors = connectors;
        this.audit = audit;
        this.catalog = catalog;
    }

    /** A refused change: the admin API's status and error code, a message safe to show; nothing changed. */
    public static final class Refused extends RuntimeException {
        private final int status;
        private final String code;

        public Refused(int status, String code, String message) {
            super(message, null, false, false);
            this.status = status;
            this.code = code;
        }

        public int status() {
            return status;
        }

        public String code() {
            return code;
        }
    }

    public List<TenantConnectors.Entry> list(String tenant) {
        return connectors.list(tenant);
    }

    public Optional<TenantConnectors.Entry> entry(String tenant, String id) {
        return connectors.entry(tenant, id);
    }

    /** Adds an API-managed connector from its map (as the API's JSON body); {@code client_secret} is sealed. */
    public TenantConnectors.Entry add(String tenant, Map<String, Object> body, Actor actor, RequestMeta meta) {
        TenantConnectors.Entry e;
        try {
            e = connectors.add(tenant, body, null, System.currentTimeMillis());
        } catch (ConnectorException x) {
            throw new Refused(400, x.code().wire(), x.getMessage());
        } catch (IllegalArgumentException x) {
            throw new Refused(400, "invalid_config", x.getMessage());
        } catch (IllegalStateException x) {
            throw new Refused(409, "conflict", x.getMessage());
        }
        changed(tenant, EventTypes.CONNECTOR_ADDED, e.id(), actor, meta);
        return e;
    }

    /** Runs the connector's checks (discovery, keys...) and the role-mapping check; audits the result. */
    public ConnectorTestReport test(String tenant, String id, Actor actor, RequestMeta meta) {
        TenantConnectors.Entry entry = connectors.entry(tenant, id)
                .orElseThrow(() -> new Refused(404, "not_found", "no connector '" + id + "'"));
        ConnectorTestReport r = withRoleMapping(tenant, entry, entry.connector().test());
        // the check names and the result; the details are the upstream's answers and stay in the response
        audit.append(AuditEvent.of(tenant, EventTypes.CONNECTOR_TESTED, r.ok() ? AuditEvent.Outcome.SUCCESS
                        : AuditEvent.Outcome.FAILURE).request(meta).detail("connector", id)
                .detail("actor", actor.label()).detail("ok", r.ok())
                .detail("problems", r.problems().stream().map(ConnectorTestReport.Check::name).toList()).build());
        return r;
    }

    public TenantConnectors.Entry setEnabled(String tenant, String id, boolean enabled, Actor actor, RequestMeta meta) {
        try {
            connectors.setEnabled(tenant, id, enabled, System.currentTimeMillis());
        } catch (NoSuchElementException e) {
            throw new Refused(404, "not_found", e.getMessage());
        } catch (UnsupportedOperationException e) {
            throw new Refused(409, "managed_by_config", e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new Refused(409, "conflict", e.getMessage());
        }
        changed(tenant, enabled ? EventTypes.CONNECTOR_ENABLED : EventTypes.CONNECTOR_DISABLED, id, actor, meta);
        return connectors.entry(tenant, id).orElse(null);
    }

    public void remove(String tenant, String id, Actor actor, RequestMeta meta) {
        try {
            connectors.remove(tenant, id);
        } catch (NoSuchElementException e) {
            throw new Refused(404, "not_found", e.getMessage());
        } catch (UnsupportedOperationException e) {
            throw new Refused(409, "managed_by_config", e.getMessage());
        }
        changed(tenant, EventTypes.CONNECTOR_REMOVED, id, actor, meta);
    }

    private void changed(String tenant, String type, String id, Actor actor, RequestMeta meta) {
        audit.append(AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS).request(meta)
                .detail("connector", id).detail("actor", actor.label()).build());
    }

    /**
     * Adds a {@code role_mapping} check: a mapping to a role the tenant does not have gives users no scopes (clients
     * then get a bare {@code invalid_scope}), so the test fails and names the missing roles.
     */
    private ConnectorTestReport withRoleMapping(String tenant, TenantConnectors.Entry e, ConnectorTestReport r) {
        Map<String, List<String>> mapping = e.connector().config().roleMapping();
        Set<String> known = new HashSet<>();
        catalog.roles(tenant).forEach(role -> known.add(role.name()));
        TreeSet<String> missing = new TreeSet<>();
        mapping.values().forEach(roles -> roles.stream().filter(role -> !known.contains(role)).forEach(missing::add));
        ConnectorTestReport.Check check;
        if (mapping.isEmpty()) {
            check = new ConnectorTestReport.Check("role_mapping", ConnectorTestReport.Status.WARN,
                    "no role_mapping: users of this connector get no roles, hence no scopes");
        } else if (missing.isEmpty()) {
            check = new ConnectorTestReport.Check("role_mapping", ConnectorTestReport.Status.OK,
                    mapping.size() + " upstream group(s) mapped to existing roles");
        } else {
            check = new ConnectorTestReport.Check("role_mapping", ConnectorTestReport.Status.FAIL,
                    "role_mapping names roles this tenant does not have: " + String.join(", ", missing));
        }
        List<ConnectorTestReport.Check> checks = new ArrayList<>(r.checks());
        checks.add(check);
        return new ConnectorTestReport(r.connectorId(), checks);
    }

    /** The test report as the API answers it (and the CLI prints it): id, ok, checks, problems. */
    public static Map<String, Object> report(String id, ConnectorTestReport r) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("id", id);
        body.put("ok", r.ok());
        body.put("checks", r.checks().stream().map(c -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", c.name());
            m.put("status", c.status().name().toLowerCase(Locale.ROOT));
            m.put("detail", c.detail());
            return m;
        }).toList());
        body.put("problems", r.problems().stream().map(c -> c.name() + ": " + c.detail()).toList());
        return body;
    }

    /** What an admin may see: never the client secret or a private key. */
    public static Map<String, Object> view(TenantConnectors.Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", e.id());
        m.put("type", e.type());
        m.put("display_name", e.displayName());
        m.put("issuer", e.connector().config().issuer());
        m.put("enabled", e.enabled());
        m.put("default", e.isDefault());
        m.put("managed_by", e.source());
        m.put("email_domains", e.connector().config().emailDomains());
        m.put("role_mapping", e.connector().config().roleMapping());
        m.put("config", e.config());
        return m;
    }
}
