package dev.deputy.broker.console;

import dev.deputy.broker.admin.ConsoleGate;
import dev.deputy.broker.admin.TenantOverview;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.Dormancy;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpMethod;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.security.annotation.Secured;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.rules.SecurityRule;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tenant's console home, {@code GET /console/t/<tenant>}: agents by status and the dormant ones, tokens issued
 * and refused per hour over the last 24 hours, the audit trail's state and the connectors' health
 * ({@link TenantOverview}: bounded reads, no IdP call, no chain walk). Access is the admin API's for reading the
 * tenant ({@code GET /admin/t/<tenant>}): tenant admins and auditors; an agent owner is sent to their agents.
 */
@Controller("/console/t/{tenant}")
@Secured(SecurityRule.IS_ANONYMOUS)
@ExecuteOn(TaskExecutors.BLOCKING)
class ConsoleOverviewController {
    private static final DateTimeFormatter HOUR = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);

    private static final ConsoleTenantPages.Back HOME = ConsoleTenantPages.Back.to("/console", "Back to the console");

    private final ConsoleTenantPages pages;
    private final TenantOverview overview;

    ConsoleOverviewController(ConsoleTenantPages pages, TenantOverview overview) {
        this.pages = pages;
        this.overview = overview;
    }

    @Get(produces = MediaType.TEXT_HTML)
    HttpResponse<?> show(@PathVariable String tenant, HttpRequest<?> request, @Nullable Authentication auth) {
        ConsoleTenantPages.Visit entered = pages.enter(auth, tenant);
        if (entered.stopped()) {
            return entered.stop();
        }
        if (entered.admin().ownerOnly(tenant)) {
            // an agent owner reads their own agents only, not the tenant's figures: their page is the agent list
            return ConsoleTenantPages.seeOther(ConsoleTenantPages.base(tenant, "agents"));
        }
        ConsoleTenantPages.Visit v = pages.allow(request, entered, HttpMethod.GET, ConsoleGate.apiPath(tenant), null, HOME);
        if (v.stopped()) {
            return v.stop();
        }
        long now = System.currentTimeMillis();
        TenantOverview.Overview o = overview.of(tenant, now);
        Map<String, Object> model = pages.model(v, ConsoleTenantPages.base(tenant, null));
        model.put("agentsBase", ConsoleTenantPages.base(tenant, "agents"));
        model.put("connectorsBase", ConsoleTenantPages.base(tenant, "connectors"));
        model.put("auditBase", ConsoleTenantPages.base(tenant, "audit"));
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("active", o.agents().counts().active());
        counts.put("suspended", o.agents().counts().suspended());
        counts.put("revoked", o.agents().counts().revoked());
        counts.put("dormant", o.agents().counts().dormant());
        model.put("counts", counts);
        model.put("dormancyDays", String.valueOf(o.agents().dormancy().period().toDays()));
        model.put("dormancyAutoSuspend", o.agents().dormancy().autoSuspend());
        List<Map<String, Object>> dormant = new ArrayList<>();
        for (Agent a : o.agents().dormant()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", a.id());
            m.put("name", a.name());
            m.put("owner", a.owner());
            m.put("lastActivity", Instant.ofEpochMilli(Dormancy.lastActivity(a)).toString());
            m.put("href", ConsoleTenantPages.base(tenant, "agents") + "/" + a.id());
            dormant.add(m);
        }
        model.put("dormant", dormant);
        long max = Math.max(1, o.tokens().hours().stream().mapToLong(h -> Math.max(h.issued(), h.refused())).max().orElse(1));
        List<Map<String, Object>> hours = new ArrayList<>();
        for (TenantOverview.Hour h : o.tokens().hours()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("from", HOUR.format(Instant.ofEpochMilli(h.startMs())));
            m.put("start", Instant.ofEpochMilli(h.startMs()).toString());
            m.put("issued", h.issued());
            m.put("refused", h.refused());
            hours.add(m);
        }
        model.put("hours", hours);
        model.put("max", max);
        model.put("issued", o.tokens().issued());
        model.put("refused", o.tokens().refused());
        model.put("audit", auditModel(o.audit(), now));
        List<Map<String, Object>> connectors = new ArrayList<>();
        for (TenantOverview.ConnectorHealth c : o.connectors()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", c.connector().id());
            m.put("name", c.connector().displayName());
            m.put("type", c.connector().type());
            m.put("enabled", c.connector().enabled());
            m.put("lastLogin", c.lastLoginMs() == null ? null : Instant.ofEpochMilli(c.lastLoginMs()).toString());
            m.put("lastTest", c.lastTest() == null ? null : Instant.ofEpochMilli(c.lastTest().atMs()).toString());
            m.put("lastTestOk", c.lastTest() != null && c.lastTest().ok());
            m.put("problems", c.lastTest() == null ? "" : String.join(", ", c.lastTest().problems()));
            connectors.add(m);
        }
        model.put("connectors", connectors);
        model.put("loginWindow", String.valueOf(TenantOverview.LOGIN_WINDOW));
        return pages.render(request, v, 200, "console/overview", model);
    }

    private static Map<String, Object> auditModel(TenantOverview.AuditState s, long now) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("head", s.headSeq());
        s.checkpoint().ifPresent(c -> {
            m.put("checkpointSeq", String.valueOf(c.seq())); // as text: message arguments are not digit-grouped
            m.put("checkpointAt", Instant.ofEpochMilli(c.atMs()).toString());
            m.put("checkpointKid", c.kid());
        });
        s.unsigned().ifPresent(u -> {
            m.put("unsigned", String.valueOf(u.entries()));
            m.put("unsignedFrom", String.valueOf(u.fromSeq()));
            m.put("unsignedAgeSeconds", String.valueOf(u.oldestAgeMs() / 1000));
        });
        m.put("witnessKind", s.witness().kind());
        m.put("witnessMessage", s.witness().message());
        m.put("witnessRefused", s.witness().refused());
        m.put("alarms", s.alarms());
        return m;
    }
}
