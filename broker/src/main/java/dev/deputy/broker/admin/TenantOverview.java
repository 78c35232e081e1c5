package dev.deputy.broker.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Dormancy;
import dev.deputy.broker.audit.AuditAlarms;
import dev.deputy.broker.audit.AuditCheckpoint;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.AuditVerifier;
import dev.deputy.broker.audit.AuditWitness;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.federation.TenantConnectors;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The facts of a tenant's console overview, each read with a bounded cost whatever the size of the tenant: agents by
 * status and the dormant count (one aggregate over the agents), the longest-idle dormant agents, token issuance and
 * refusals per hour over the last 24 hours (counted once per node, then extended by the entries appended since:
 * {@link TokenHourCounts}), the audit trail's state (last signed checkpoint — the chain is verified up to it before it is signed —, the unsigned
 * tail, the witness comparison, this node's audit alarms) and each connector's health from the audit trail (its last
 * successful sign-in among the tenant's newest {@value #LOGIN_WINDOW}, its last test among the newest
 * {@value #TEST_WINDOW}). Nothing here calls an identity provider or walks the chain.
 */
@Singleton
public class TenantOverview {
    public static final int HOURS = 24;
    public static final int DORMANT_SHOWN = 20;
    public static final int LOGIN_WINDOW = 1000;
    public static final int TEST_WINDOW = 200;
    /** What counts as a token issued: a token endpoint success of any grant. */
    static final List<String> ISSUED = List.of(EventTypes.TOKEN_ISSUED, EventTypes.TOKEN_REFRESHED,
            EventTypes.TOKEN_EXCHANGED);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AgentStore agents;
    private final AuditStore audit;
    private final AuditVerifier verifier;
    private final AuditWitness witness;
    private final AdminContext ctx;
    private final TenantConnectors connectors;
    private final TokenHourCounts tokenCounts;

    TenantOverview(AgentStore agents, AuditStore audit, AuditVerifier verifier, AuditWitness witness, AdminContext ctx,
                   TenantConnectors connectors) {
        this.agents = agents;
        this.audit = audit;
        this.verifier = verifier;
        this.witness = witness;
        this.ctx = ctx;
        this.connectors = connectors;
        this.tokenCounts = new TokenHourCounts(audit, ISSUED, EventTypes.TOKEN_REJECTED);
    }

    /** One hour of the series: tokens issued (issued, refreshed, exchanged) and refused ({@code token.rejected}). */
    public record Hour(long startMs, long issued, long refused) {
    }

    /** The audit trail's state, without walking it. */
    public record AuditState(long headSeq, Optional<AuditCheckpoint> checkpoint, Optional<AuditVerifier.Tail> unsigned,
                             AuditWitness.Comparison witness, long alarms) {
    }

    /** A connector's last test in the audit trail: when, whether it passed, the names of the failing checks. */
    public record LastTest(long atMs, boolean ok, List<String> problems) {
    }

    /** A connector's health from the audit trail; null: none found in the window read. */
    public record ConnectorHealth(TenantConnectors.Entry connector, Long lastLoginMs, LastTest lastTest) {
    }

    /** Agents by status, the tenant's dormancy rule and the longest-idle dormant agents. */
    public record AgentFigures(AgentStore.StatusCounts counts, Dormancy dormancy, List<Agent> dormant) {
    }

    /** The last 24 hours, oldest first, and their totals. */
    public record TokenSeries(List<Hour> hours, long issued, long refused) {
    }

    public record Overview(AgentFigures agents, TokenSeries tokens, AuditState audit, List<ConnectorHealth> connectors) {
    }

    public Overview of(String tenant, long now) {
        Dormancy dormancy = ctx.dormancy(tenant);
        long cutoff = now - dormancy.period().toMillis();
        AgentStore.StatusCounts counts = agents.countByStatus(tenant, cutoff);
        List<Agent> dormant = counts.dormant() == 0 ? List.of() : agents.dormant(tenant, cutoff, DORMANT_SHOWN);

        long to = now - Math.floorMod(now, AuditStore.HOUR_MS) + AuditStore.HOUR_MS;
        long from = to - HOURS * AuditStore.HOUR_MS;
        long head = audit.head(tenant).map(AuditEntry::seq).orElse(0L);
        Map<Long, long[]> byHour = tokenCounts.counts(tenant, from, head);
        List<Hour> hours = new ArrayList<>(HOURS);
        long issued = 0;
        long refused = 0;
        for (long h = from; h < to; h += AuditStore.HOUR_MS) {
            long[] n = byHour.getOrDefault(h, new long[2]);
            hours.add(new Hour(h, n[0], n[1]));
            issued += n[0];
            refused += n[1];
        }

        AuditState state = new AuditState(head, audit.latestCheckpoint(tenant), verifier.unsignedTail(tenant),
                witness.compare(tenant, audit), AuditAlarms.total());
        return new Overview(new AgentFigures(counts, dormancy, dormant), new TokenSeries(hours, issued, refused), state,
                connectorHealth(tenant));
    }

    private List<ConnectorHealth> connectorHealth(String tenant) {
        List<TenantConnectors.Entry> entries = connectors.list(tenant);
        if (entries.isEmpty()) {
            return List.of();
        }
        Map<String, Long> lastLogin = new HashMap<>();
        for (AuditEntry e : audit.newestOfType(tenant, EventTypes.LOGIN_SUCCEEDED, LOGIN_WINDOW)) {
            connectorOf(e).ifPresent(c -> lastLogin.putIfAbsent(c, e.atMs()));
        }
        Map<String, AuditEntry> lastTest = new HashMap<>();
        for (AuditEntry e : audit.newestOfType(tenant, EventTypes.CONNECTOR_TESTED, TEST_WINDOW)) {
            connectorOf(e).ifPresent(c -> lastTest.putIfAbsent(c, e));
        }
        List<ConnectorHealth> out = new ArrayList<>();
        for (TenantConnectors.Entry c : entries) {
            AuditEntry t = lastTest.get(c.id());
            LastTest last = null;
            if (t != null) {
                JsonNode d = details(t);
                List<String> problems = new ArrayList<>();
                if (d != null && d.path("problems").isArray()) {
                    d.path("problems").forEach(p -> problems.add(p.asText()));
                }
                last = new LastTest(t.atMs(), "success".equals(t.outcome()), List.copyOf(problems));
            }
            out.add(new ConnectorHealth(c, lastLogin.get(c.id()), last));
        }
        return out;
    }

    private static Optional<String> connectorOf(AuditEntry e) {
        JsonNode d = details(e);
        return d == null || !d.path("connector").isTextual() ? Optional.empty() : Optional.of(d.path("connector").asText());
    }

    private static JsonNode details(AuditEntry e) {
        if (e.details() == null) {
            return null;
        }
        try {
            return JSON.readTree(e.details());
        } catch (java.io.IOException ex) {
            return null;
        }
    }
}
