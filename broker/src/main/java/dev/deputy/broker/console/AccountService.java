package dev.deputy.broker.console;

import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.authorize.Consent;
import dev.deputy.broker.authorize.ConsentStore;
import dev.deputy.broker.authorize.RegisteredClients;
import dev.deputy.broker.authorize.ScopeDescriptions;
import dev.deputy.broker.federation.Session;
import dev.deputy.broker.grant.refresh.RefreshToken;
import dev.deputy.broker.grant.refresh.RefreshTokens;
import jakarta.inject.Singleton;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the account page shows a signed-in user: the consents they gave, the live refresh-token families
 * (applications and agents that can keep getting tokens for them), the agents that acted for them according to
 * the audit trail, and the activity done in their name (newest first, paged). Read only: revoking goes through
 * {@code authorize.ConsentRevocation}.
 */
@Singleton
public class AccountService {
    /** Entries per activity page. */
    public static final int PAGE = 20;
    /** How far back (entries) the "agents that acted for you" list looks. */
    static final int AGENT_WINDOW = 500;

    private final ConsentStore consents;
    private final RefreshTokens refreshTokens;
    private final RegisteredClients clients;
    private final AgentStore agents;
    private final AuditStore auditStore;
    private final ScopeDescriptions descriptions;

    public AccountService(ConsentStore consents, RefreshTokens refreshTokens, RegisteredClients clients, AgentStore agents,
                          AuditStore auditStore, ScopeDescriptions descriptions) {
        this.consents = consents;
        this.refreshTokens = refreshTokens;
        this.clients = clients;
        this.agents = agents;
        this.auditStore = auditStore;
        this.descriptions = descriptions;
    }

    public record ConsentItem(String clientId, String clientName, String resourceId, String resourceName,
                              List<ScopeDescriptions.Item> scopes, String grantedAt) {
    }

    public record FamilyItem(String familyId, String clientId, String clientName, String resource, String actor,
                             List<String> scopes, String since, String expires) {
    }

    public record AgentItem(String agentId, String name, String lastSeen) {
    }

    public record ActivityItem(long seq, String at, String type, String outcome, String client, String actor,
                               String resource, String scopes) {
    }

    public Map<String, Object> model(Session s, long beforeSeq, long now) {
        String tenant = s.tenantId();
        List<Resource> resources = agents.listResources(tenant);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("user", s.email() != null ? s.email() : s.upstreamSub());
        m.put("userName", s.name());

        List<ConsentItem> cs = new ArrayList<>();
        for (Consent c : consents.list(tenant, s.userId())) {
            Resource r = resources.stream().filter(x -> x.id().equals(c.resourceId())).findFirst().orElse(null);
            cs.add(new ConsentItem(c.clientId(), clientName(tenant, c.clientId()), c.resourceId(),
                    r == null ? c.resourceId() : r.name(), descriptions.describe(tenant, c.resourceId(), c.scopes()),
                    Instant.ofEpochMilli(c.grantedAt()).toString()));
        }
        m.put("consents", cs);

        List<FamilyItem> fs = new ArrayList<>();
        for (RefreshToken t : refreshTokens.liveFamilies(tenant, s.userId(), now)) {
            fs.add(new FamilyItem(t.familyId(), t.clientId(), clientName(tenant, t.clientId()), t.resource(), t.actor(),
                    t.scopes(), Instant.ofEpochMilli(t.createdAt()).toString(), Instant.ofEpochMilli(t.expiresAt()).toString()));
        }
        m.put("families", fs);

        // agents that acted for the user: the actors of entries about them (recent window), and the families' actors
        Map<String, String> seen = new LinkedHashMap<>();
        for (AuditEntry e : mine(s, Long.MAX_VALUE, AGENT_WINDOW)) {
            for (String a : actors(e)) {
                seen.putIfAbsent(a, Instant.ofEpochMilli(e.atMs()).toString());
            }
        }
        for (FamilyItem f : fs) {
            if (f.actor() != null) {
                seen.putIfAbsent(f.actor(), f.since());
            }
        }
        List<AgentItem> as = new ArrayList<>();
        seen.forEach((id, at) -> as.add(new AgentItem(id,
                agents.findAgent(tenant, id).map(dev.deputy.broker.agent.Agent::name).orElse(id), at)));
        m.put("agents", as);

        List<AuditEntry> page = mine(s, beforeSeq, PAGE + 1);
        boolean more = page.size() > PAGE;
        List<ActivityItem> activity = page.stream().limit(PAGE).map(e -> new ActivityItem(e.seq(),
                Instant.ofEpochMilli(e.atMs()).toString(), e.type(), e.outcome(), e.clientId(),
                actors(e).isEmpty() ? null : String.join(" → ", actors(e)), e.resource(), e.scopes())).toList();
        m.put("activity", activity);
        m.put("olderBefore", more ? activity.get(activity.size() - 1).seq() : null);
        m.put("paged", beforeSeq != Long.MAX_VALUE);
        return m;
    }

    /** Entries about this user (same upstream sub and issuer), newest first. */
    private List<AuditEntry> mine(Session s, long beforeSeq, int limit) {
        List<AuditEntry> out = new ArrayList<>();
        long before = beforeSeq;
        // entries of another issuer's user with the same sub are skipped; a few rounds at most
        for (int round = 0; round < 5 && out.size() < limit; round++) {
            List<AuditEntry> batch = auditStore.bySubjectNewestFirst(s.tenantId(), s.upstreamSub(), before, limit);
            for (AuditEntry e : batch) {
                if (e.subjectIss() == null || Objects.equals(e.subjectIss(), s.upstreamIss())) {
                    out.add(e);
                    if (out.size() == limit) {
                        break;
                    }
                }
            }
            if (batch.size() < limit) {
                break;
            }
            before = batch.get(batch.size() - 1).seq();
        }
        return out;
    }

    /** The acting agents of an entry, outermost first (its actor chain, else the entry's agent). */
    private static List<String> actors(AuditEntry e) {
        List<String> chain = e.actorChain();
        if (!chain.isEmpty()) {
            return chain;
        }
        return e.agentId() == null ? List.of() : List.of(e.agentId());
    }

    private String clientName(String tenant, String clientId) {
        return clients.find(tenant, clientId).map(OAuthClient::name).filter(n -> n != null && !n.isBlank()).orElse(clientId);
    }
}
