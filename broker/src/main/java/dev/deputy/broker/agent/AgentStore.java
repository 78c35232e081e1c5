package dev.deputy.broker.agent;

import java.util.List;
import java.util.Optional;

/** Durable agents, credentials, roles and resources (port; implemented in storage). */
public interface AgentStore {
    Optional<Agent> findAgent(String tenantId, String id);

    List<Agent> listAgents(String tenantId);

    /**
     * The agents matching {@code query} in id order, {@code offset} rows skipped, at most {@code limit}, and the number
     * of stored rows matching in all (a row whose MAC fails is counted there but not returned, and is reported).
     */
    AgentQuery.Page findAgents(String tenantId, AgentQuery query, int offset, int limit);

    /** Inserts or replaces the agent row (by tenant and id). */
    void saveAgent(Agent agent);

    void deleteAgent(String tenantId, String id);

    /** Records use, at most once a minute per agent (callers may call on every token). */
    void touchLastSeen(String tenantId, String id, long now);

    List<AgentCredential> credentials(String tenantId, String agentId);

    Optional<AgentCredential> credentialByThumbprint(String tenantId, String thumbprint);

    void saveCredential(AgentCredential credential);

    /** Sets {@code valid_until} on every active credential of the agent that has none or a later one. */
    void limitCredentials(String tenantId, String agentId, long validUntil, String exceptCredentialId);

    void revokeCredentials(String tenantId, String agentId);

    List<Role> listRoles(String tenantId);

    void saveRole(Role role);

    void deleteRole(String tenantId, String name);

    List<Resource> listResources(String tenantId);

    void saveResource(Resource resource);

    void deleteResource(String tenantId, String id);

    /** How many agents the tenant has in each status, and how many active ones are dormant (console overview). */
    record StatusCounts(long active, long suspended, long revoked, long dormant) {
        public long total() {
            return active + suspended + revoked;
        }
    }

    /**
     * Counts by status and the dormant count: an active agent is dormant when its last activity (last token, else
     * creation; a resume restarts the clock, see {@link Dormancy#lastActivity}) is at or before {@code dormantCutoff}.
     * Storage answers it with one aggregate query; this default reads every agent and is for test stores.
     */
    default StatusCounts countByStatus(String tenantId, long dormantCutoff) {
        long[] n = new long[4];
        for (Agent a : listAgents(tenantId)) {
            n[a.status().ordinal()]++;
            if (a.status() == Agent.Status.ACTIVE && Dormancy.lastActivity(a) <= dormantCutoff) {
                n[3]++;
            }
        }
        return new StatusCounts(n[0], n[1], n[2], n[3]);
    }

    /** The dormant agents (see {@link #countByStatus}), longest idle first, at most {@code limit}. */
    default List<Agent> dormant(String tenantId, long dormantCutoff, int limit) {
        return listAgents(tenantId).stream()
                .filter(a -> a.status() == Agent.Status.ACTIVE && Dormancy.lastActivity(a) <= dormantCutoff)
                .sorted(java.util.Comparator.comparingLong(Dormancy::lastActivity).thenComparing(Agent::id))
                .limit(limit).toList();
    }
}
