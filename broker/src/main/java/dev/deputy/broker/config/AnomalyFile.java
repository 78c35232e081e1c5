package dev.deputy.broker.config;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code anomaly:} in {@code config/tenants/<t>/tenant.yml} (docs/governance.md, Anomaly rules): rules evaluated on
 * the tenant's audit stream as entries are appended, and where alerts go.
 *
 * @param webhook where alerts are POSTed (signed); unset: alerts only reach the audit trail and its SSE stream
 * @param rules   the rules, each with a unique id
 */
public record AnomalyFile(WebhookFile webhook, List<RuleFile> rules) {
    static final Pattern RULE_ID = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    static final Pattern ENV_NAME = Pattern.compile("[A-Z_][A-Z0-9_]{0,127}");

    public AnomalyFile {
        rules = rules == null ? List.of() : List.copyOf(rules);
        Set<String> ids = new HashSet<>();
        for (RuleFile r : rules) {
            if (r == null) {
                throw new IllegalArgumentException("anomaly.rules: empty rule");
            }
            if (!ids.add(r.id())) {
                throw new IllegalArgumentException("anomaly.rules: rule id '" + r.id() + "' is used twice");
            }
        }
    }

    /**
     * {@code anomaly.webhook}.
     *
     * @param url         an https URL (http only for loopback addresses, for development)
     * @param secretEnv   the environment variable holding the HMAC-SHA256 key the body is signed with
     * @param maxAttempts deliveries tried before giving up (default 5, backoff 1s, 2s, 4s, …)
     */
    public record WebhookFile(String url, String secretEnv, Integer maxAttempts) {
        public WebhookFile {
            if (url == null || url.isBlank()) {
                throw new IllegalArgumentException("anomaly.webhook.url is required");
            }
            java.net.URI u;
            try {
                u = java.net.URI.create(url.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("anomaly.webhook.url is not a URL");
            }
            String host = u.getHost();
            boolean loopback = host != null && (host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]"));
            if (host == null || !("https".equals(u.getScheme()) || ("http".equals(u.getScheme()) && loopback))) {
                throw new IllegalArgumentException("anomaly.webhook.url must be an https URL (http only for localhost)");
            }
            if (secretEnv == null || !ENV_NAME.matcher(secretEnv).matches()) {
                throw new IllegalArgumentException("anomaly.webhook.secret_env must name an environment variable"
                        + " (upper case letters, digits and _)");
            }
            if (maxAttempts != null && (maxAttempts < 1 || maxAttempts > 20)) {
                throw new IllegalArgumentException("anomaly.webhook.max_attempts must be between 1 and 20");
            }
            url = url.strip();
            maxAttempts = maxAttempts == null ? 5 : maxAttempts;
        }
    }

    /**
     * One rule. Which settings apply depends on the kind; a setting the kind does not use is an error.
     *
     * @param id         unique in the tenant; named by {@code anomaly.detected} and by an automatic suspension
     * @param kind       refusal_burst, new_network, new_scope, new_tool, delegation_depth, off_hours
     * @param count      refusal_burst: refusals that trigger
     * @param within     refusal_burst: the period they are counted in
     * @param window     new_network, new_scope, new_tool: how long a network, scope or tool counts as known (default 30d)
     * @param ipv4Prefix new_network: IPv4 addresses in one /n are one network (default 24)
     * @param ipv6Prefix new_network: IPv6 addresses in one /n are one network (default 64)
     * @param maxDepth   delegation_depth: the longest act chain allowed without an alert
     * @param hours      off_hours: working hours {@code HH:MM-HH:MM} (may wrap midnight); agent metadata
     *                   {@code working_hours} overrides it per agent
     * @param days       off_hours: working days (mon…sun; default mon-fri)
     * @param timeZone   off_hours: IANA time zone of the hours; agent metadata {@code time_zone} overrides it
     * @param agents     only these agent ids (unset: every agent)
     * @param actions    alert (always implied) and optionally suspend
     */
    public record RuleFile(String id, String kind, Integer count, Duration within, Duration window, Integer ipv4Prefix,
                           Integer ipv6Prefix, Integer maxDepth, String hours, List<String> days, String timeZone,
                           List<String> agents, List<String> actions) {
        public static final String REFUSAL_BURST = "refusal_burst";
        public static final String NEW_NETWORK = "new_network";
        public static final String NEW_SCOPE = "new_scope";
        public static final String NEW_TOOL = "new_tool";
        public static final String DELEGATION_DEPTH = "delegation_depth";
        public static final String OFF_HOURS = "off_hours";
        public static final List<String> KINDS = List.of(REFUSAL_BURST, NEW_NETWORK, NEW_SCOPE, NEW_TOOL,
                DELEGATION_DEPTH, OFF_HOURS);
        public static final String ACTION_ALERT = "alert";
        public static final String ACTION_SUSPEND = "suspend";
        static final Duration DEFAULT_WINDOW = Duration.ofDays(30);

        public RuleFile {
            if (id == null || !RULE_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("anomaly rule id must be 1-64 of a-z 0-9 . _ - (starting with a letter"
                        + " or digit)");
            }
            String where = "anomaly rule '" + id + "': ";
            if (kind == null || !KINDS.contains(kind)) {
                throw new IllegalArgumentException(where + "kind must be one of " + String.join(", ", KINDS));
            }
            List<String> set = new ArrayList<>();
            if (count != null) set.add("count");
            if (within != null) set.add("within");
            if (window != null) set.add("window");
            if (ipv4Prefix != null) set.add("ipv4_prefix");
            if (ipv6Prefix != null) set.add("ipv6_prefix");
            if (maxDepth != null) set.add("max_depth");
            if (hours != null) set.add("hours");
            if (days != null) set.add("days");
            if (timeZone != null) set.add("time_zone");
            List<String> allowed = switch (kind) {
                case REFUSAL_BURST -> List.of("count", "within");
                case NEW_NETWORK -> List.of("window", "ipv4_prefix", "ipv6_prefix");
                case NEW_SCOPE, NEW_TOOL -> List.of("window");
                case DELEGATION_DEPTH -> List.of("max_depth");
                default -> List.of("hours", "days", "time_zone");
            };
            for (String s : set) {
                if (!allowed.contains(s)) {
                    throw new IllegalArgumentException(where + s + " does not apply to kind " + kind + " (it takes "
                            + String.join(", ", allowed) + ")");
                }
            }
            switch (kind) {
                case REFUSAL_BURST -> {
                    if (count == null || count < 1 || count > 100_000) {
                        throw new IllegalArgumentException(where + "count is required (1 to 100000)");
                    }
                    if (within == null || within.compareTo(Duration.ofSeconds(1)) < 0 || within.compareTo(Duration.ofDays(1)) > 0) {
                        throw new IllegalArgumentException(where + "within is required (1s to 1d)");
                    }
                }
                case NEW_NETWORK, NEW_SCOPE, NEW_TOOL -> {
                    if (window != null && (window.compareTo(Duration.ofMinutes(1)) < 0 || window.compareTo(Duration.ofDays(365)) > 0)) {
                        throw new IllegalArgumentException(where + "window must be between 1m and 365d");
                    }
                    if (ipv4Prefix != null && (ipv4Prefix < 8 || ipv4Prefix > 32)) {
                        throw new IllegalArgumentException(where + "ipv4_prefix must be between 8 and 32");
                    }
                    if (ipv6Prefix != null && (ipv6Prefix < 16 || ipv6Prefix > 128)) {
                        throw new IllegalArgumentException(where + "ipv6_prefix must be between 16 and 128");
                    }
                    window = window == null ? DEFAULT_WINDOW : window;
                    if (NEW_NETWORK.equals(kind)) {
                        ipv4Prefix = ipv4Prefix == null ? 24 : ipv4Prefix;
                        ipv6Prefix = ipv6Prefix == null ? 64 : ipv6Prefix;
                    }
                }
                case DELEGATION_DEPTH -> {
                    if (maxDepth == null || maxDepth < 1 || maxDepth > 16) {
                        throw new IllegalArgumentException(where + "max_depth is required (1 to 16)");
                    }
                }
                default -> {
                    if (hours == null) {
                        throw new IllegalArgumentException(where + "hours is required (HH:MM-HH:MM)");
                    }
                    workingHours(hours, where);
                    if (timeZone == null) {
                        throw new IllegalArgumentException(where + "time_zone is required (an IANA zone such as Europe/Paris)");
                    }
                    zone(timeZone, where);
                    workingDays(days, where);
                }
            }
            if (agents != null) {
                for (String a : agents) {
                    if (a == null || a.isBlank()) {
                        throw new IllegalArgumentException(where + "agents: empty agent id");
                    }
                }
                agents = List.copyOf(agents);
            }
            if (actions == null || actions.isEmpty()) {
                actions = List.of(ACTION_ALERT);
            } else {
                for (String a : actions) {
                    if (!ACTION_ALERT.equals(a) && !ACTION_SUSPEND.equals(a)) {
                        throw new IllegalArgumentException(where + "actions may be alert and suspend");
                    }
                }
                actions = List.copyOf(new java.util.LinkedHashSet<>(actions));
            }
        }

        public boolean suspends() {
            return actions.contains(ACTION_SUSPEND);
        }

        public boolean appliesTo(String agentId) {
            return agents == null || agents.contains(agentId);
        }

        /** {@code HH:MM-HH:MM} → [start, end]; throws with the rule named. */
        public static LocalTime[] workingHours(String text, String where) {
            String[] p = text.strip().split("-");
            try {
                if (p.length != 2) {
                    throw new IllegalArgumentException();
                }
                LocalTime start = LocalTime.parse(p[0].strip());
                LocalTime end = LocalTime.parse(p[1].strip());
                if (start.equals(end)) {
                    throw new IllegalArgumentException();
                }
                return new LocalTime[]{start, end};
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + "hours must be HH:MM-HH:MM (e.g. 08:00-18:30), start and end"
                        + " apart");
            }
        }

        public static ZoneId zone(String text, String where) {
            try {
                return ZoneId.of(text.strip());
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(where + "time_zone '" + text + "' is not an IANA time zone");
            }
        }

        public static Set<DayOfWeek> workingDays(List<String> days, String where) {
            if (days == null) {
                return EnumSet.range(DayOfWeek.MONDAY, DayOfWeek.FRIDAY);
            }
            if (days.isEmpty()) {
                throw new IllegalArgumentException(where + "days must name at least one day");
            }
            Set<DayOfWeek> out = EnumSet.noneOf(DayOfWeek.class);
            for (String d : days) {
                DayOfWeek match = null;
                for (DayOfWeek w : DayOfWeek.values()) {
                    if (d != null && w.name().substring(0, 3).toLowerCase(Locale.ROOT).equals(d)) {
                        match = w;
                    }
                }
                if (match == null) {
                    throw new IllegalArgumentException(where + "days are mon, tue, wed, thu, fri, sat, sun (not '" + d + "')");
                }
                out.add(match);
            }
            return out;
        }

        static String lower(String s) {
            return s.toLowerCase(Locale.ROOT);
        }
    }
}
