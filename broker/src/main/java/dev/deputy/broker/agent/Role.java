package dev.deputy.broker.agent;

import java.util.List;

/** A role template: the scopes it grants, optionally only in some environments (empty = all). */
public record Role(String tenantId, String name, String description, List<String> scopes, List<String> environments,
                   String managedBy) {
    public Role {
        scopes = scopes == null ? List.of() : List.copyOf(scopes);
        environments = environments == null ? List.of() : List.copyOf(environments);
    }

    public boolean appliesIn(String environment) {
        return environments.isEmpty() || environments.contains(environment);
    }
}
