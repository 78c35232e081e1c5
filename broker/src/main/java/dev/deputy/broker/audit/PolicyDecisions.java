package dev.deputy.broker.audit;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tool decisions one {@code policy.decision} entry holds (docs/audit.md, "policy.decision"). A single AuthZEN
 * evaluation is one entry about one decision ({@code tool}, {@code effect}, {@code rule}, … at the top of its
 * details). A batch is one entry per group of items sharing subject, actor chain and resource, with the per-item parts
 * in a {@code decisions} array ({@code index}, {@code tool}, {@code effect}, {@code rule}, {@code reason},
 * {@code arguments}, {@code inputs}, {@code approval_jti}, {@code approval_refused}) and the shared parts (subject
 * type, groups and attributes, actor environments, source, time, decision client) at the top. Every reader that counts
 * decisions reads them through {@link #of}, so a batched entry counts as all of its decisions.
 */
public final class PolicyDecisions {
    /** The details key of a batched entry's per-item decisions. */
    public static final String DECISIONS = "decisions";
    /** The effect of a permitted decision. */
    public static final String PERMIT = "permit";

    private PolicyDecisions() {
    }

    /** Whether an entry's details are a tool decision's ({@code kind: tool}), single or batched. */
    public static boolean tool(Map<String, Object> details) {
        return "tool".equals(details.get("kind"));
    }

    /**
     * Each decision of a tool decision entry's details as one flat map (the shared parts, then the item's own, which
     * win): one map for a single evaluation's entry (its details as they are), one per item for a batched entry.
     * Items that are not objects are skipped.
     */
    public static List<Map<String, Object>> of(Map<String, Object> details) {
        if (!(details.get(DECISIONS) instanceof List<?> items)) {
            return List.of(details);
        }
        List<Map<String, Object>> out = new ArrayList<>(items.size());
        for (Object item : items) {
            if (item instanceof Map<?, ?> m) {
                Map<String, Object> flat = new LinkedHashMap<>(details);
                flat.remove(DECISIONS);
                m.forEach((k, v) -> flat.put(String.valueOf(k), v));
                if (flat.containsKey("index") && !flat.containsKey("batch_index")) {
                    flat.put("batch_index", flat.get("index"));
                }
                out.add(flat);
            }
        }
        return out;
    }

    /** Whether one decision (an element of {@link #of}) was a permit. */
    public static boolean permitted(Map<String, Object> decision) {
        return PERMIT.equals(decision.get("effect"));
    }
}
