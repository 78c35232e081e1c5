package dev.deputy.policy;

import java.net.InetAddress;
import java.time.DayOfWeek;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** A rule as evaluated: its checks, cheapest and most selective first (tool, server, subject, actors, arguments). */
final class CompiledRule {
    final String id;
    final String description;
    final Effect effect;
    final List<Check> checks;
    /** The rule as written (what {@link ToolPolicy#grantsTo} reads); null only while the rule's constructor checks it. */
    final ToolsSection.Rule written;

    private CompiledRule(String id, String description, Effect effect, List<Check> checks, ToolsSection.Rule written) {
        this.id = id;
        this.description = description;
        this.effect = effect;
        this.checks = List.copyOf(checks);
        this.written = written;
    }

    static CompiledRule compile(ToolsSection.Rule r) {
        CompiledRule c = compile(r.id(), r.description(), r.effect(), r.tools(), r.servers(), r.subject(), r.actors(),
                r.when(), r.time(), r.source());
        return new CompiledRule(c.id, c.description, c.effect, c.checks, r);
    }

    /** Also called from the rule's constructor (before its fields are set), so that errors carry the file's line. */
    static CompiledRule compile(String id, String description, Effect effect, List<String> ruleTools,
                                List<String> ruleServers, ToolsSection.SubjectMatch subject, ToolsSection.ActorsMatch actors,
                                List<String> when, ToolsSection.TimeWindow time, List<String> source) {
        List<Check> checks = new ArrayList<>();
        String at = "rule " + id + ": ";
        Glob tools = new Glob(ruleTools, at + "tools");
        checks.add(new Check("tool", tools.toString()) {
            Object read(ToolInput in) {
                return in.tool();
            }

            Outcome test(Object v, ToolInput in) {
                return tools.matches((String) v) ? Outcome.MATCH : Outcome.NO_MATCH;
            }
        });
        if (!ruleServers.isEmpty()) {
            Glob servers = new Glob(ruleServers, at + "servers");
            checks.add(new Check("server", servers.toString()) {
                Object read(ToolInput in) {
                    return in.server();
                }

                Outcome test(Object v, ToolInput in) {
                    return servers.matches((String) v) ? Outcome.MATCH : Outcome.NO_MATCH;
                }
            });
        }
        if (subject != null) {
            subject(subject, at, checks);
        }
        if (actors != null) {
            actors(actors, at, checks);
        }
        for (String w : when) {
            checks.add(Condition.parse(w, id));
        }
        if (time != null) {
            checks.add(time(time, at));
        }
        if (!source.isEmpty()) {
            checks.add(source(source, at));
        }
        return new CompiledRule(id, description, effect, checks, null);
    }

    private static void subject(ToolsSection.SubjectMatch s, String at, List<Check> checks) {
        if (s.type() != null) {
            checks.add(new Check("subject.type", s.type()) {
                Object read(ToolInput in) {
                    return in.subject().type();
                }

                Outcome test(Object v, ToolInput in) {
                    return s.type().equals(v) ? Outcome.MATCH : Outcome.NO_MATCH;
                }
            });
        }
        if (!s.ids().isEmpty()) {
            Glob ids = new Glob(s.ids(), at + "subject.ids");
            checks.add(new Check("subject.id", ids.toString()) {
                Object read(ToolInput in) {
                    return in.subject().id();
                }

                Outcome test(Object v, ToolInput in) {
                    return ids.matches((String) v) ? Outcome.MATCH : Outcome.NO_MATCH;
                }
            });
        }
        if (!s.groups().isEmpty()) {
            List<String> groups = s.groups();
            checks.add(new Check("subject.groups", "any of " + groups) {
                Object read(ToolInput in) {
                    return in.subject().groups();
                }

                Outcome test(Object v, ToolInput in) {
                    Set<String> have = in.subject().groups();
                    for (String g : groups) {
                        if (have.contains(g)) {
                            return Outcome.MATCH;
                        }
                    }
                    return Outcome.NO_MATCH;
                }
            });
        }
        for (Map.Entry<String, Object> a : s.attributes().entrySet()) {
            String key = a.getKey();
            List<String> accepted = new ArrayList<>();
            if (a.getValue() instanceof List<?> l) {
                for (Object o : l) {
                    accepted.add(scalarText(o, at + "subject.attributes." + key));
                }
            } else {
                accepted.add(scalarText(a.getValue(), at + "subject.attributes." + key));
            }
            checks.add(new Check("subject.attributes." + key, accepted.size() == 1 ? accepted.get(0) : "any of " + accepted) {
                Object read(ToolInput in) {
                    return in.subject().attributes().get(key);
                }

                Outcome test(Object v, ToolInput in) {
                    if (v instanceof List<?> l) { // a multi-valued attribute matches when one of its values does
                        for (Object o : l) {
                            if (o != null && accepted.contains(String.valueOf(o))) {
                                return Outcome.MATCH;
                            }
                        }
                        return Outcome.NO_MATCH;
                    }
                    return v != null && !(v instanceof Map) && accepted.contains(String.valueOf(v))
                            ? Outcome.MATCH : Outcome.NO_MATCH;
                }
            });
        }
    }

    private static String scalarText(Object o, String where) {
        if (o instanceof String || o instanceof Number || o instanceof Boolean) {
            return String.valueOf(o);
        }
        throw new IllegalArgumentException(where + ": values are text, numbers or true/false");
    }

    private static void actors(ToolsSection.ActorsMatch a, String at, List<Check> checks) {
        if (!a.agents().isEmpty()) {
            Glob agents = new Glob(a.agents(), at + "actors.agents");
            checks.add(new Check("actors", "some agent is " + agents) {
                Object read(ToolInput in) {
                    return in.actors().stream().map(ToolInput.Actor::id).toList();
                }

                Outcome test(Object v, ToolInput in) {
                    for (ToolInput.Actor x : in.actors()) {
                        if (agents.matches(x.id())) {
                            return Outcome.MATCH;
                        }
                    }
                    return Outcome.NO_MATCH;
                }
            });
        }
        if (!a.environments().isEmpty()) {
            List<String> envs = a.environments();
            checks.add(new Check("actors.environments", "every agent in " + envs) {
                Object read(ToolInput in) {
                    List<String> out = new ArrayList<>();
                    for (ToolInput.Actor x : in.actors()) {
                        out.add(x.environment());
                    }
                    return out;
                }

                Outcome test(Object v, ToolInput in) {
                    if (in.actors().isEmpty()) {
                        return Outcome.NO_MATCH;
                    }
                    for (ToolInput.Actor x : in.actors()) {
                        if (x.environment() == null || !envs.contains(x.environment())) {
                            return Outcome.NO_MATCH;
                        }
                    }
                    return Outcome.MATCH;
                }
            });
        }
        if (a.minDepth() != null || a.maxDepth() != null) {
            int min = a.minDepth() == null ? 0 : a.minDepth();
            int max = a.maxDepth() == null ? Integer.MAX_VALUE : a.maxDepth();
            checks.add(new Check("actors.depth", a.maxDepth() == null ? ">= " + min
                    : a.minDepth() == null ? "<= " + max : min + ".." + max) {
                Object read(ToolInput in) {
                    return in.depth();
                }

                Outcome test(Object v, ToolInput in) {
                    return in.depth() >= min && in.depth() <= max ? Outcome.MATCH : Outcome.NO_MATCH;
                }
            });
        }
    }

    private static final Pattern HOURS = Pattern.compile("^(\\d{2}:\\d{2})\\s*-\\s*(\\d{2}:\\d{2})$");

    private static Check time(ToolsSection.TimeWindow w, String at) {
        EnumSet<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (String d : w.days()) {
            days.add(day(d, at));
        }
        LocalTime from = null;
        LocalTime to = null;
        if (w.hours() != null) {
            var m = HOURS.matcher(w.hours().strip());
            try {
                if (!m.matches()) {
                    throw new DateTimeParseException("", w.hours(), 0);
                }
                from = LocalTime.parse(m.group(1));
                to = m.group(2).equals("24:00") ? LocalTime.MAX : LocalTime.parse(m.group(2));
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException(at + "time.hours must be HH:MM-HH:MM (got '" + w.hours() + "')");
            }
        }
        if (days.isEmpty() && from == null) {
            throw new IllegalArgumentException(at + "time needs days or hours");
        }
        ZoneId zone;
        try {
            zone = w.zone() == null ? ZoneId.of("UTC") : ZoneId.of(w.zone());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(at + "time.zone '" + w.zone() + "' is not a time zone (e.g. Europe/Berlin)");
        }
        LocalTime f = from;
        LocalTime t = to;
        String written = (days.isEmpty() ? "" : w.days() + " ") + (w.hours() == null ? "" : w.hours() + " ") + zone;
        return new Check("time", written) {
            Object read(ToolInput in) {
                return in.time() == null ? null : in.time().toString();
            }

            Outcome test(Object v, ToolInput in) {
                if (in.time() == null) {
                    return Outcome.UNDETERMINED;
                }
                ZonedDateTime z = in.time().atZone(zone);
                if (!days.isEmpty() && !days.contains(z.getDayOfWeek())) {
                    return Outcome.NO_MATCH;
                }
                if (f != null) {
                    LocalTime lt = z.toLocalTime();
                    boolean inside = f.isBefore(t) || f.equals(t) ? !lt.isBefore(f) && lt.isBefore(t)
                            : !lt.isBefore(f) || lt.isBefore(t); // wraps midnight: 22:00-06:00
                    if (!inside) {
                        return Outcome.NO_MATCH;
                    }
                }
                return Outcome.MATCH;
            }
        };
    }

    private static DayOfWeek day(String d, String at) {
        String s = d == null ? "" : d.strip().toLowerCase(Locale.ROOT);
        for (DayOfWeek w : DayOfWeek.values()) {
            String full = w.name().toLowerCase(Locale.ROOT);
            if (s.equals(full) || s.equals(full.substring(0, 3))) {
                return w;
            }
        }
        throw new IllegalArgumentException(at + "time.days: '" + d + "' is not a day (mon, tue, … sun)");
    }

    private static Check source(List<String> cidrs, String at) {
        List<byte[]> nets = new ArrayList<>();
        List<Integer> bits = new ArrayList<>();
        for (String c : cidrs) {
            String s = c == null ? "" : c.strip();
            int slash = s.indexOf('/');
            byte[] addr = literal(slash < 0 ? s : s.substring(0, slash));
            if (addr == null) {
                throw new IllegalArgumentException(at + "source: '" + c + "' is not an IP address or CIDR block");
            }
            int prefix = addr.length * 8;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(s.substring(slash + 1));
                } catch (NumberFormatException e) {
                    prefix = -1;
                }
                if (prefix < 0 || prefix > addr.length * 8) {
                    throw new IllegalArgumentException(at + "source: bad prefix length in '" + c + "'");
                }
            }
            nets.add(addr);
            bits.add(prefix);
        }
        return new Check("source", cidrs.size() == 1 ? cidrs.get(0) : "any of " + cidrs) {
            Object read(ToolInput in) {
                return in.source();
            }

            Outcome test(Object v, ToolInput in) {
                byte[] a = in.source() == null ? null : literal(in.source());
                if (a == null) {
                    return Outcome.UNDETERMINED;
                }
                for (int i = 0; i < nets.size(); i++) {
                    if (within(a, nets.get(i), bits.get(i))) {
                        return Outcome.MATCH;
                    }
                }
                return Outcome.NO_MATCH;
            }
        };
    }

    private static final Pattern V4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");
    private static final Pattern V6 = Pattern.compile("^[0-9A-Fa-f:.]{2,45}$");

    /** An IP literal's bytes (IPv4-mapped IPv6 as IPv4); null for anything else — never a DNS lookup. */
    static byte[] literal(String s) {
        if (s == null || !(V4.matcher(s).matches() || s.indexOf(':') >= 0 && V6.matcher(s).matches())) {
            return null;
        }
        try {
            return InetAddress.getByName(s).getAddress(); // a literal: parsed, not resolved
        } catch (Exception e) {
            return null;
        }
    }

    private static boolean within(byte[] a, byte[] net, int prefix) {
        if (a.length != net.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != net[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xff << (8 - rest) & 0xff;
        return (a[full] & mask) == (net[full] & mask);
    }

    /** The inputs this rule's checks read, by name (what a decision says it used). */
    Map<String, Object> inputs(ToolInput in) {
        Map<String, Object> used = new LinkedHashMap<>();
        for (Check c : checks) {
            used.put(c.input, c.read(in));
        }
        return used;
    }
}
