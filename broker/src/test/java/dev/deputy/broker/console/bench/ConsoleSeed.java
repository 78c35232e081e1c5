package dev.deputy.broker.console.bench;

import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditSeal;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.storage.StorageBackend;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Fills a tenant of a (fresh) database with what a large installation holds, through the broker's own code: agents as
 * {@code JooqAgentStore} writes them (row MACs with the broker's master key, bulk inserts of 500) and audit entries
 * sealed by {@link AuditSeal} into one valid hash chain, written by {@link AuditStore#insert} in batches (one
 * transaction each, audit_agents rows included), so that the broker's verifier and checkpoints accept the chain.
 *
 * <p>Deterministic (a fixed random seed): the same arguments give the same rows. The entries spread over
 * {@code days} days up to now, in time order: token.issued, token.exchanged (delegation chains of one or two agents),
 * token.rejected, policy.decision (allow/deny), agent.* lifecycle changes and login.succeeded, by a skewed population
 * (a few agents and users are very busy, most are quiet), with correlation ids shared by the entries of one request.
 */
public final class ConsoleSeed {
    static final String[] AGENT_FAMILIES = {"payments.settlement.reconciler", "support.ticket.triage", "deploy.release.bot",
            "data.pipeline.loader", "hr.onboarding.assistant", "finance.invoice.matcher", "security.alert.summarizer",
            "sales.crm.enricher", "legal.contract.reviewer", "it.helpdesk.agent"};
    static final String[] AGENT_NAMES = {"Zahlungsabgleich für Überweisungen", "Zoë's ticket triage", "Release bot",
            "Ångström data loader", "Onboarding-Assistent", "請求書照合エージェント", "Alert summarizer (SOC)",
            "CRM enricher – Île-de-France", "Contract reviewer “legal”", "Helpdesk agent"};
    static final String[] ENVIRONMENTS = {"production", "production", "production", "production", "staging", "staging",
            "development", "sandbox"};
    public static final String[] ROLES = {"deploy-reader", "payments.read", "payments.write", "tickets.read", "crm.read",
            "reports.read"};
    static final String[] FIRST = {"jonathan", "zoë", "françois", "åsa", "mohammed", "mei", "olga", "josé", "siobhán",
            "chidi", "ingrid", "rahul", "yuki", "kwame", "élodie", "björn", "aiko", "lucía", "søren", "nadia"};
    static final String[] LAST = {"williams", "ångström", "müller", "o'brien", "nakamura", "garcía", "kowalski", "dubois",
            "okafor", "lindqvist", "patel", "tanaka", "mensah", "lefèvre", "andersen", "silva", "novák", "horváth",
            "rossi", "schmidt"};
    static final String[] APPS = {"mcp-inspector", "claude-desktop", "cursor", "vscode-copilot", "internal.portal",
            "reporting.dashboard"};
    static final String[] RESOURCES = {"https://mcp.bank.example/mcp", "https://mcp.tickets.example/mcp",
            "https://deploy.corp.example/mcp", "https://crm.corp.example/mcp", "https://files.corp.example/mcp"};
    static final String[] TOOLS = {"transfer_funds", "get_balance", "list_accounts", "tickets.read", "tickets.update",
            "deploy.prod", "crm.lookup", "files.read"};
    static final String[] REJECT_REASONS = {"invalid_client:assertion expired", "invalid_grant:actor token revoked",
            "invalid_scope:role does not grant payments.write", "invalid_client:unknown key id",
            "unauthorized_client:agent suspended"};
    /** The busiest user: the admin the bench signs in as is this person too. */
    public static final String HOT_USER = "jonathan.christopher.williams";

    final String tenant;
    final int agents;
    final int users;
    final long entries;
    final long days;
    final long now;
    final String[] agentIds;
    final String[] userIds;
    final String[] owners;

    public ConsoleSeed(String tenant, int agents, long entries, long days, long now) {
        this.tenant = tenant;
        this.agents = agents;
        this.users = Math.max(10, agents * 5);
        this.entries = entries;
        this.days = days;
        this.now = now;
        Random r = new Random(7);
        agentIds = new String[agents];
        for (int i = 0; i < agents; i++) {
            agentIds[i] = AGENT_FAMILIES[i % AGENT_FAMILIES.length] + "-" + String.format("%05d", i);
        }
        userIds = new String[users];
        userIds[0] = HOT_USER;
        userIds[1] = "zoë.ångström";
        userIds[2] = "Zoë Ångström";
        for (int i = 3; i < users; i++) {
            String first = FIRST[r.nextInt(FIRST.length)];
            String last = LAST[r.nextInt(LAST.length)];
            userIds[i] = switch (i % 3) {
                case 0 -> first + "." + last + "." + i;                      // dotted names
                case 1 -> "00u" + Long.toString(Math.abs(r.nextLong()), 36);  // an Okta-style sub
                default -> first + "." + last + i + "@corp.example";          // an e-mail as sub
            };
        }
        owners = new String[Math.max(3, agents / 30)];
        owners[0] = HOT_USER + "@corp.example";
        owners[1] = "zoë.ångström@corp.example";
        owners[2] = "jonathan.christopher.williams+bots@corp.example";
        for (int i = 3; i < owners.length; i++) {
            owners[i] = FIRST[r.nextInt(FIRST.length)] + "." + LAST[r.nextInt(LAST.length)] + i + "@corp.example";
        }
    }

    /** Skewed towards small indexes: a few very busy ones, a long quiet tail. */
    static int skewed(Random r, int n, double power) {
        return Math.min(n - 1, (int) (n * Math.pow(r.nextDouble(), power)));
    }

    public List<Agent> agents() {
        Random r = new Random(11);
        long day = 86_400_000L;
        List<Agent> out = new ArrayList<>(agents);
        for (int i = 0; i < agents; i++) {
            Agent.Status s = i % 25 == 7 ? Agent.Status.REVOKED : i % 12 == 5 ? Agent.Status.SUSPENDED : Agent.Status.ACTIVE;
            List<String> roles = new ArrayList<>();
            roles.add(ROLES[i % ROLES.length]);
            if (i % 3 == 0) {
                roles.add(ROLES[(i / 3 + 1) % ROLES.length]);
            }
            long created = now - days * day - r.nextInt(200) * day;
            Long lastSeen = i % 7 == 3 ? null : now - (long) (r.nextDouble() * 20 * day);
            String name = AGENT_NAMES[i % AGENT_NAMES.length] + " #" + i;
            out.add(new Agent(tenant, agentIds[i], name, owners[skewed(r, owners.length, 2)],
                    ENVIRONMENTS[r.nextInt(ENVIRONMENTS.length)], roles.stream().distinct().toList(),
                    Map.of("team", AGENT_FAMILIES[i % AGENT_FAMILIES.length].split("\\.")[0], "cost_center", "cc-" + (i % 40)),
                    s, Agent.AuthMethod.PRIVATE_KEY_JWT, "api", created, created,
                    s == Agent.Status.ACTIVE ? null : now - r.nextInt(10) * day, lastSeen));
        }
        return out;
    }

    /** The event of entry number {@code seq} (1-based), drawn from {@code r}. */
    AuditEvent event(Random r, long seq, String[] correlation) {
        String agent = agentIds[skewed(r, agents, 2.5)];
        String user = userIds[skewed(r, users, 3)];
        String resource = RESOURCES[r.nextInt(RESOURCES.length)];
        if (r.nextInt(10) < 7 || correlation[0] == null) {
            correlation[0] = hex(r, 16);
        }
        RequestMeta meta = new RequestMeta(correlation[0], "req_" + hex(r, 8),
                r.nextInt(8) == 0 ? "2001:db8::" + Integer.toHexString(r.nextInt(65536)) : "10." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256),
                null);
        int kind = r.nextInt(100);
        if (kind < 50) {
            if (r.nextInt(10) < 6) {
                return AuditEvent.of(tenant, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS).subject(agent, null)
                        .agent(agent).client(agent).resource(resource).scopes("payments:read tickets:read").request(meta)
                        .detail("grant_type", "client_credentials").detail("jti", hex(r, 12))
                        .detail("auth_method", "private_key_jwt").detail("exp", now / 1000 + 300).build();
            }
            return AuditEvent.of(tenant, EventTypes.TOKEN_ISSUED, AuditEvent.Outcome.SUCCESS)
                    .subject(user, "https://login.corp.example").client(APPS[r.nextInt(APPS.length)]).resource(resource)
                    .scopes("files:read").request(meta).detail("grant_type", "authorization_code").detail("jti", hex(r, 12))
                    .detail("user_id", "usr_" + Integer.toHexString(user.hashCode())).build();
        }
        if (kind < 65) {
            List<String> chain = r.nextInt(4) == 0 ? List.of(agent, agentIds[skewed(r, agents, 2.5)]) : List.of(agent);
            return AuditEvent.of(tenant, EventTypes.TOKEN_EXCHANGED, AuditEvent.Outcome.SUCCESS)
                    .subject(user, "https://login.corp.example").actors(chain).agent(agent).client(agent).resource(resource)
                    .scopes("payments:read").request(meta).detail("jti", hex(r, 12)).detail("subject_jti", hex(r, 12))
                    .detail("subject_kind", "user").detail("requested", List.of("payments:read")).build();
        }
        if (kind < 73) {
            String[] reason = REJECT_REASONS[r.nextInt(REJECT_REASONS.length)].split(":", 2);
            return AuditEvent.of(tenant, EventTypes.TOKEN_REJECTED, AuditEvent.Outcome.FAILURE).agent(agent).client(agent)
                    .request(meta).detail("error", reason[0]).detail("reason", reason[1])
                    .detail("authenticated", r.nextBoolean()).detail("grant_type", "client_credentials").build();
        }
        if (kind < 97) {
            boolean allow = r.nextInt(10) < 8;
            String tool = TOOLS[r.nextInt(TOOLS.length)];
            return AuditEvent.of(tenant, EventTypes.POLICY_DECISION, allow ? AuditEvent.Outcome.ALLOW : AuditEvent.Outcome.DENY)
                    .subject(user, "https://login.corp.example").actors(List.of(agent)).agent(agent).client("bench-pep")
                    .resource(resource).request(meta).detail("tool", tool).detail("effect", allow ? "permit" : "deny")
                    .detail("rule", allow ? "payments-agents" : "no-prod-deploy-by-night").detail("kind", "tool")
                    .detail("decision_client", "bench-pep").build();
        }
        if (kind < 99) {
            String type = switch (r.nextInt(3)) {
                case 0 -> EventTypes.AGENT_SUSPENDED;
                case 1 -> EventTypes.AGENT_RESUMED;
                default -> EventTypes.AGENT_UPDATED;
            };
            return AuditEvent.of(tenant, type, AuditEvent.Outcome.SUCCESS).agent(agent).client("ops.lead@corp.example")
                    .request(meta).detail("actor", "admin:ops.lead@corp.example").detail("reason", "rotation – Zoë's request")
                    .build();
        }
        return AuditEvent.of(tenant, EventTypes.LOGIN_SUCCEEDED, AuditEvent.Outcome.SUCCESS)
                .subject(user, "https://login.corp.example").request(meta)
                .detail("user_id", "usr_" + Integer.toHexString(user.hashCode())).detail("connector", "okta").build();
    }

    static String hex(Random r, int bytes) {
        byte[] b = new byte[bytes];
        r.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /**
     * Seals {@code entries} events after the tenant's current head and inserts them in batches of {@code batch}: one
     * thread seals (the chain is sequential), one writes. Returns the number written.
     */
    public long writeEntries(AuditStore store, int batch, java.util.function.LongConsumer progress) throws InterruptedException {
        Optional<AuditEntry> head = store.head(tenant);
        long seq = head.map(AuditEntry::seq).orElse(0L);
        String prev = head.map(AuditEntry::hash).orElse(AuditEntry.GENESIS);
        long start = now - days * 86_400_000L;
        long step = Math.max(1, days * 86_400_000L / Math.max(1, entries));
        long at = Math.max(start, head.map(AuditEntry::atMs).orElse(start));
        BlockingQueue<List<AuditEntry>> queue = new ArrayBlockingQueue<>(8);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        List<AuditEntry> end = List.of();
        Thread writer = Thread.ofPlatform().name("seed-writer").start(() -> {
            try {
                long written = 0;
                for (List<AuditEntry> b = queue.take(); b != end; b = queue.take()) {
                    store.insert(b);
                    written += b.size();
                    progress.accept(written);
                }
            } catch (Throwable t) {
                failed.set(t);
                queue.clear();
            }
        });
        Random r = new Random(13);
        String[] correlation = new String[1];
        List<AuditEntry> current = new ArrayList<>(batch);
        for (long i = 1; i <= entries && failed.get() == null; i++) {
            // time order per tenant (the query converts time windows to seq windows): never before the previous entry
            at = Math.max(at, start + (i - 1) * step + r.nextInt((int) Math.min(Integer.MAX_VALUE, step)));
            AuditEntry e = AuditSeal.seal(event(r, i, correlation), ++seq, at, prev);
            prev = e.hash();
            current.add(e);
            if (current.size() == batch) {
                queue.put(current);
                current = new ArrayList<>(batch);
            }
        }
        if (!current.isEmpty() && failed.get() == null) {
            queue.put(current);
        }
        if (failed.get() == null) {
            queue.put(end);
        }
        writer.join();
        if (failed.get() != null) {
            throw new IllegalStateException("seeding failed: " + failed.get(), failed.get());
        }
        return entries;
    }

    /** The bench's master key (a throwaway database's; not a secret): the broker under test gets it as DEPUTY_MASTER_KEY. */
    public static byte[] masterKey() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256")
                    .digest("deputy scripts/bench console: throwaway bench database".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Seeds agents and entries through a {@link StorageBackend} on an existing database; prints what it did. */
    public static void seed(StorageBackend backend, String tenant, int agents, long entries, long days) throws Exception {
        ConsoleSeed seed = new ConsoleSeed(tenant, agents, entries, days, System.currentTimeMillis());
        long t0 = System.nanoTime();
        backend.insertAgents(seed.agents());
        long t1 = System.nanoTime();
        System.out.printf("seeded %,d agents in %.1f s%n", agents, (t1 - t0) / 1e9);
        long[] last = {0};
        seed.writeEntries(backend.audit(), 1000, n -> {
            if (n / 100_000 > last[0] / 100_000) {
                System.out.printf("  %,d entries (%.0f s)%n", n, (System.nanoTime() - t1) / 1e9);
            }
            last[0] = n;
        });
        System.out.printf("seeded %,d audit entries in %.1f s (%,.0f entries/s)%n", entries, (System.nanoTime() - t1) / 1e9,
                entries / ((System.nanoTime() - t1) / 1e9));
    }
}
