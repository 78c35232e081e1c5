package dev.deputy.broker.config;

import java.util.List;

/**
 * {@code tenants/<t>/roles/<name>.yml}: a role managed by config.
 *
 * @param name         defaults to the file name without {@code .yml}
 * @param environments the environments the role applies in; empty = all
 * @param privileged   a plan that creates an agent with this role, or grants it to one, needs a second admin's
 *                     approval ({@link PlanApprovals}); so does a plan that takes the mark away
 */
public record RoleFile(String name, String description, List<String> scopes, List<String> environments,
                       Boolean privileged) {
    public RoleFile {
        if (scopes == null || scopes.isEmpty()) {
            throw new IllegalArgumentException("scopes is required: the scopes the role grants");
        }
        scopes = List.copyOf(scopes);
        environments = environments == null ? List.of() : List.copyOf(environments);
    }

    public RoleFile(String name, String description, List<String> scopes, List<String> environments) {
        this(name, description, scopes, environments, null);
    }

    public boolean isPrivileged() {
        return Boolean.TRUE.equals(privileged);
    }
}
