package dev.deputy.broker.console;

import dev.deputy.broker.governance.Approvals;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The account page's view of pending approvals: each request's transaction made readable — the tool, its arguments
 * flattened to {@code name: value} lines ({@code payee.name: Zoë Müller}), other RFC 9396 objects by type — with the
 * binding message, the client and the acting agents. Text only: the template escapes it.
 */
public final class ApprovalItems {
    /** At most this many argument lines per request. */
    static final int MAX_LINES = 30;

    private ApprovalItems() {
    }

    public record Line(String name, String value) {
    }

    public record Item(String id, String tool, List<Line> arguments, String bindingMessage, String resource,
                       String client, String agents, String expires) {
    }

    public static List<Item> of(List<Approvals.Pending> pending) {
        List<Item> out = new ArrayList<>();
        for (Approvals.Pending p : pending) {
            List<Line> lines = new ArrayList<>();
            flatten("", p.arguments(), lines);
            for (Map<String, Object> d : p.authorizationDetails()) {
                if (!"deputy_tool_call".equals(d.get("type"))) {
                    flatten(d.get("type") + ".", d, lines);
                }
            }
            out.add(new Item(p.id(), p.tool() != null ? p.tool() : String.valueOf(p.authorizationDetails().get(0).get("type")),
                    lines.size() > MAX_LINES ? lines.subList(0, MAX_LINES) : lines, p.bindingMessage(), p.resource(),
                    p.clientId(), p.actors().isEmpty() ? null : String.join(" \u2192 ", p.actors().reversed()),
                    Instant.ofEpochMilli(p.expiresAt()).toString()));
        }
        return out;
    }

    private static void flatten(String prefix, Map<?, ?> m, List<Line> out) {
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (prefix.isEmpty() || !"type".equals(e.getKey())) {
                String name = prefix + e.getKey();
                if (e.getValue() instanceof Map<?, ?> nested) {
                    flatten(name + ".", nested, out);
                } else {
                    out.add(new Line(name, e.getValue() instanceof List<?> l ? String.join(", ", l.stream().map(String::valueOf).toList())
                            : String.valueOf(e.getValue())));
                }
            }
        }
    }
}
