package dev.deputy.broker.policy;

import java.util.List;
import java.util.Set;

/**
 * The question asked of delegation policy: may this agent act for this user, at this resource, with
 * these scopes?
 *
 * @param agentId        the agent that would act (the new outermost actor)
 * @param agentRoles     its roles
 * @param agentInternal  whether the agent is internal to the tenant (internal agents never see consent)
 * @param userSub        the user's upstream sub
 * @param userIss        the user's upstream issuer
 * @param userConnector  the connector the user logged in through (null when unknown)
 * @param userGroups     the user's groups as mapped by the connector
 * @param userRoles      the user's roles as mapped by the connector
 * @param resource       the canonical resource URI
 * @param requested      requested scopes (already narrowed to what the user and agent may have)
 * @param chainDepth     the length of the actor chain the new token would carry
 */
public record DelegationInput(String agentId, List<String> agentRoles, boolean agentInternal, String userSub,
                              String userIss, String userConnector, Set<String> userGroups, Set<String> userRoles,
                              String resource, Set<String> requested, int chainDepth) {
    public DelegationInput {
        agentRoles = agentRoles == null ? List.of() : List.copyOf(agentRoles);
        userGroups = userGroups == null ? Set.of() : Set.copyOf(userGroups);
        userRoles = userRoles == null ? Set.of() : Set.copyOf(userRoles);
        requested = requested == null ? Set.of() : Set.copyOf(requested);
    }
}
