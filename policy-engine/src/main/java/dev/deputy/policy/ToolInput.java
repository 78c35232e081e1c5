package dev.deputy.policy;

import com.fasterxml.jackson.annotation.JsonInclude;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One decision input: who (the subject, and the chain of agents acting for it), which tool at which MCP server, with
 * which arguments, when and from where. The same shape is the input of fixtures and of {@code deputy policy explain}
 * (docs/governance.md, "Decision input").
 *
 * @param subject   the user (or, for an agent acting alone, the agent)
 * @param actors    the actor chain, current actor first (RFC 8693 {@code act}: {@code {sub: B, act: {sub: A}}} is
 *                  {@code [B, A]}); empty when the subject calls directly
 * @param tool      the MCP tool name
 * @param server    the MCP server: its resource URI (or resource id)
 * @param arguments the tool arguments as the MCP server received them
 * @param time      when the call happens (time windows); null = unknown
 * @param source    the caller's network address as the MCP server saw it; null = unknown
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ToolInput(Subject subject, List<Actor> actors, String tool, String server, Map<String, Object> arguments,
                        Instant time, String source) {

    public ToolInput {
        actors = actors == null ? List.of() : List.copyOf(actors);
        arguments = arguments == null ? Map.of() : arguments;
        if (subject == null || subject.id() == null || subject.id().isEmpty()) {
            throw new IllegalArgumentException("subject.id is required");
        }
        if (tool == null || tool.isEmpty()) {
            throw new IllegalArgumentException("tool is required");
        }
    }

    /** The subject: {@code type} user (default) or agent, its id (the upstream {@code sub}), groups and attributes. */
    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    public record Subject(String type, String id, Set<String> groups, Map<String, Object> attributes) {
        public Subject {
            type = type == null ? "user" : type;
            groups = groups == null ? Set.of() : Set.copyOf(groups);
            attributes = attributes == null ? Map.of() : attributes;
        }
    }

    /** One agent of the chain: its id and the environment it runs in (null when unknown). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Actor(String id, String environment) {
        public Actor {
            if (id == null || id.isEmpty()) {
                throw new IllegalArgumentException("every actor needs an id");
            }
        }
    }

    /** The chain's length (0 when the subject calls without an agent). */
    public int depth() {
        return actors.size();
    }
}
